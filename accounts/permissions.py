"""Who may do what with people and configuration."""

from accounts.enums import Role


def may_administer(user) -> bool:
    """The administrator (or a superuser) configures people, roles and standards."""
    return (
        user.is_authenticated and user.is_active and user.is_staff and (user.is_superuser or user.has_role(Role.ADMIN))
    )
