from django.urls import path

from . import account_views, self_service_views, views

app_name = "readers"

urlpatterns = [
    path("", views.libraries, name="libraries"),
    path("<slug:library>/", views.home, name="home"),
    path("<slug:library>/search/", views.search_page, name="search"),
    path("<slug:library>/titles/<int:pk>/", views.title_detail, name="title"),
    path("<slug:library>/new/", views.new_arrivals, name="new-arrivals"),
    path("<slug:library>/popular/", views.popular, name="popular"),
    # Reader accounts: a session of the reader's own, apart from staff sign-in.
    path("<slug:library>/sign-in/", account_views.sign_in, name="sign-in"),
    path("<slug:library>/sign-out/", account_views.sign_out, name="sign-out"),
    path("<slug:library>/account/", account_views.account, name="account"),
    path("<slug:library>/account/loans/<int:pk>/renew/", account_views.renew, name="renew"),
    path(
        "<slug:library>/account/holds/<int:pk>/cancel/",
        account_views.hold_cancel,
        name="hold-cancel",
    ),
    path(
        "<slug:library>/account/history/",
        account_views.reading_history,
        name="reading-history",
    ),
    path("<slug:library>/account/card/", account_views.e_card, name="e-card"),
    path(
        "<slug:library>/account/card/<slug:kind>.svg",
        account_views.e_card_image,
        name="e-card-image",
    ),
    path("<slug:library>/titles/<int:pk>/hold/", account_views.hold_place, name="hold-place"),
    # Self-service borrowing: the address a site's QR poster carries.
    path(
        "<slug:library>/self-service/<str:token>/",
        self_service_views.self_service,
        name="self-service",
    ),
]
