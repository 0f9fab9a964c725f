"""Chinese first: the interface is Simplified Chinese unless the user chose
English with the switch (which sets the language cookie). The browser's
Accept-Language is deliberately ignored — venue tablets and borrowed laptops
often come set to English, and the bureau's users expect Chinese."""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
