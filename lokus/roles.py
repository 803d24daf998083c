"""The model permissions each role holds for plans, lokus and the access log (added to
``accounts.roles.ROLE_PERMISSIONS`` in ``LokusConfig.ready``)."""

from accounts.enums import Role

ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.PARTNER: ["lokus.add_activityplan"],
    Role.KASUBBID: [
        "lokus.add_activityplan",
        "lokus.view_activityplan",
        "lokus.decide_activityplan",
        "lokus.dispatch_lokus",
    ],
    Role.KABID: ["lokus.add_activityplan", "lokus.view_activityplan", "lokus.view_all_lokus"],
    Role.KABAN: ["lokus.view_activityplan", "lokus.view_all_lokus", "core.view_access_records"],
    Role.ADMIN: [
        "lokus.view_kecamatan",
        "lokus.add_kecamatan",
        "lokus.change_kecamatan",
        "lokus.view_kelurahan",
        "lokus.add_kelurahan",
        "lokus.change_kelurahan",
        "lokus.view_stepstandard",
        "lokus.change_stepstandard",
    ],
}
