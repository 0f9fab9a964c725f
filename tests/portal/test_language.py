"""Chinese first, English on request, whatever the browser says."""

import pytest
from django.urls import reverse

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_login_page_is_chinese_even_for_an_english_browser(client):
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "登录" in html
    assert 'lang="zh-hans"' in html


def test_the_switch_turns_the_interface_english_and_back(client):
    client.force_login(f.organiser())
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get(reverse("home")).content.decode()
    assert "Welcome" in html and 'lang="en"' in html
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "欢迎" in client.get(reverse("home")).content.decode()


def test_times_are_shanghai_time(settings):
    assert settings.TIME_ZONE == "Asia/Shanghai"


def test_the_switch_names_each_language_in_its_own_words(client):
    html = client.get(reverse("login")).content.decode()
    assert ">English</button>" in html
    client.cookies["django_language"] = "en"
    assert ">简体中文</button>" in client.get(reverse("login")).content.decode()
