from django.contrib import admin

from lokus.models import Kecamatan, Kelurahan


class KelurahanInline(admin.TabularInline):
    model = Kelurahan
    extra = 0
    fields = ("code", "name")


@admin.register(Kecamatan)
class KecamatanAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")
    inlines = [KelurahanInline]


@admin.register(Kelurahan)
class KelurahanAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kecamatan")
    list_filter = ("kecamatan",)
    search_fields = ("code", "name", "kecamatan__name")
    list_select_related = ("kecamatan",)
