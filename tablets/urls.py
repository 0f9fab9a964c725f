"""Tablet URLs, included by the portal at ``tablet/`` (the cookie path and
the service worker's scope depend on that prefix)."""

from django.urls import path

from . import board, views

app_name = "tablets"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("link/<str:token>/", views.link, name="link"),
    path("logout/", views.logout, name="logout"),
    path("sw.js", views.service_worker, name="sw"),
    path("api/mark", views.api_mark, name="api_mark"),
    path("api/poll/<int:skill_pk>", views.api_poll, name="api_poll"),
    path("board/", board.index, name="board_index"),
    path("board/<int:skill_pk>/", board.board, name="board"),
    path("board/<int:skill_pk>/grid/", board.grid, name="board_grid"),
    path("board/<int:skill_pk>/remark/", board.remark, name="board_remark"),
    path("board/<int:skill_pk>/acknowledge/", board.acknowledge, name="board_acknowledge"),
    path(
        "board/<int:skill_pk>/acknowledge-all/",
        board.acknowledge_all,
        name="board_acknowledge_all",
    ),
    path("board/<int:skill_pk>/sign-off/", board.sign_off, name="board_sign_off"),
    path("board/<int:skill_pk>/reopen/", board.reopen, name="board_reopen"),
    path(
        "board/<int:skill_pk>/sessions/<int:pk>/revoke/",
        board.revoke_session,
        name="board_revoke_session",
    ),
    path("board/<int:skill_pk>/judges/<int:judge_pk>/pin/", board.new_pin, name="board_pin"),
    path(
        "board/<int:skill_pk>/judges/<int:judge_pk>/unlock/",
        board.unlock_pin,
        name="board_unlock_pin",
    ),
    path(
        "board/<int:skill_pk>/judges/<int:judge_pk>/revoke-links/",
        board.revoke_links,
        name="board_revoke_links",
    ),
    path("board/<int:skill_pk>/qr/", board.qr_sheet, name="board_qr"),
    path("", views.home, name="home"),
    path("<int:skill_pk>/", views.skill, name="skill"),
    path("<int:skill_pk>/<str:no>/", views.entry, name="entry"),
]
