"""The authentication backend: Django's, with every permission of a user read in the same
query as their role groups (``accounts.models.User.access``)."""

from django.contrib.auth import backends


class ModelBackend(backends.ModelBackend):
    """Django's ``ModelBackend`` (sign-in, ``is_active``, the superuser's every permission),
    except that a user's permissions, their own and their groups', come from
    ``User.access``: one query per request for the roles and the permissions together,
    where Django's reads the user's and the groups' permissions in two more."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser or not hasattr(user_obj, "access"):
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = set(user_obj.access[1])
        return user_obj._perm_cache
