"""The model permissions each role holds for activity reports and official documents
(added to ``accounts.roles.ROLE_PERMISSIONS`` in ``ReportsConfig.ready``)."""

from accounts.enums import Role

ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.KASUBBID: ["reports.review_as_kasubbid"],
    Role.KABID: ["reports.review_as_kabid"],
    Role.KABAN: ["reports.review_as_kaban", "reports.view_download_log"],
    Role.ADMIN: ["reports.view_letterhead", "reports.change_letterhead"],
}
