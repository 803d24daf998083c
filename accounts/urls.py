from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import two_factor, views
from accounts.forms import LoginForm

urlpatterns = [
    path(
        "masuk/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LoginForm),
        name="login",
    ),
    path("keluar/", auth_views.LogoutView.as_view(), name="logout"),
    path("akun/kata-sandi/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("akun/kata-sandi/selesai/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("masuk/kode/", two_factor.verify, name="two_factor_verify"),
    path("akun/dua-faktor/", two_factor.setup, name="two_factor_setup"),
    path("notifikasi/", views.notification_list, name="notifications"),
    path("notifikasi/<int:pk>/buka/", views.notification_open, name="notification_open"),
    path("notifikasi/baca-semua/", views.notification_read_all, name="notifications_read_all"),
]
