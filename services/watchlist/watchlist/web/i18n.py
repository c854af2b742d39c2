"""The console's words in English and Russian, the public page's in Kazakh too.

A language comes from ``?lang=``, then the ``lang`` cookie it leaves, then the
browser's Accept-Language, then English.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from litestar import Request

CONSOLE_LANGUAGES = ("en", "ru")
PUBLIC_LANGUAGES = ("en", "ru", "kk")
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша"}
COOKIE = "lang"

# key -> {language: text}; a missing language falls back to English.
TEXTS: dict[str, dict[str, str]] = {
    "app": {"en": "Watchlist", "ru": "Watchlist", "kk": "Watchlist"},
    "skip": {"en": "Skip to content", "ru": "Перейти к содержимому", "kk": "Мазмұнға өту"},
    "language": {"en": "Language", "ru": "Язык", "kk": "Тіл"},
    # navigation and sign-in
    "nav.check": {"en": "Quick check", "ru": "Быстрая проверка"},
    "nav.new_report": {"en": "New report", "ru": "Новое сообщение"},
    "nav.reports": {"en": "Our reports", "ru": "Наши сообщения"},
    "nav.audit": {"en": "Audit", "ru": "Аудит"},
    "nav.public": {"en": "Public check", "ru": "Публичная проверка"},
    "sign_in": {"en": "Sign in", "ru": "Войти"},
    "sign_out": {"en": "Sign out", "ru": "Выйти"},
    "sign_in.title": {"en": "Sign in to Watchlist", "ru": "Вход в Watchlist"},
    "sign_in.key": {"en": "Your organisation's API key", "ru": "API-ключ вашей организации"},
    "sign_in.hint": {
        "en": "The key starts with wl_. It stays on the server; the browser keeps only a "
        "signed-in session.",
        "ru": "Ключ начинается с wl_. Он остаётся на сервере; браузер хранит только сеанс входа.",
    },
    "sign_in.bad": {
        "en": "This key is unknown or revoked.",
        "ru": "Этот ключ неизвестен или отозван.",
    },
    "signed_in_as": {"en": "Signed in as", "ru": "Вы вошли как"},
    "role.reporter": {"en": "reporter", "ru": "составитель сообщений"},
    "role.investigator": {"en": "investigator", "ru": "следователь"},
    "role.auditor": {"en": "auditor", "ru": "аудитор"},
    "role.admin": {"en": "administrator", "ru": "администратор"},
    # quick check
    "check.title": {"en": "Quick check", "ru": "Быстрая проверка"},
    "check.label": {
        "en": "Name or phone of the recruiter, typed any way",
        "ru": "Название или телефон агентства, в любом написании",
    },
    "check.button": {"en": "Check", "ru": "Проверить"},
    "check.none": {"en": "No firm matches", "ru": "Совпадений нет"},
    "check.results": {"en": "Firms found", "ru": "Найденные фирмы"},
    "col.firm": {"en": "Firm", "ru": "Фирма"},
    "col.country": {"en": "Country", "ru": "Страна"},
    "col.level": {"en": "Risk level", "ru": "Уровень риска"},
    "col.organisations": {"en": "Independent organisations", "ru": "Независимых организаций"},
    "col.licence": {"en": "Licence", "ru": "Лицензия"},
    "col.last_report": {"en": "Last report", "ru": "Последнее сообщение"},
    "level.none": {"en": "none", "ru": "нет", "kk": "жоқ"},
    "level.low": {"en": "low", "ru": "низкий", "kk": "төмен"},
    "level.medium": {"en": "medium", "ru": "средний", "kk": "орташа"},
    "level.high": {"en": "high", "ru": "высокий", "kk": "жоғары"},
    "level.critical": {"en": "critical", "ru": "критический", "kk": "өте жоғары"},
    "licence.valid": {"en": "valid", "ru": "действует", "kk": "жарамды"},
    "licence.suspended": {"en": "suspended", "ru": "приостановлена", "kk": "тоқтатыла тұрған"},
    "licence.revoked": {"en": "revoked", "ru": "отозвана", "kk": "кері қайтарып алынған"},
    "licence.none_found": {"en": "none found", "ru": "не найдена", "kk": "табылмады"},
    "licence.unchecked": {"en": "not checked", "ru": "не проверялась", "kk": "тексерілмеген"},
    # the report form
    "report.new": {"en": "New report", "ru": "Новое сообщение"},
    "report.amend": {"en": "Amend report", "ru": "Изменить сообщение"},
    "report.subject": {"en": "The recruiter", "ru": "Агентство"},
    "report.names": {
        "en": "Names, one a line (any script)",
        "ru": "Названия, по одному в строке (любым алфавитом)",
    },
    "report.country": {
        "en": "Country of the recruiter (two letters, e.g. KZ)",
        "ru": "Страна агентства (две буквы, например KZ)",
    },
    "report.identifiers": {"en": "Identifiers", "ru": "Идентификаторы"},
    "report.identifier_kind": {"en": "Kind", "ru": "Вид"},
    "report.identifier_value": {"en": "Value", "ru": "Значение"},
    "kind.phone": {"en": "phone", "ru": "телефон"},
    "kind.bin": {"en": "BIN", "ru": "БИН"},
    "kind.licence": {"en": "licence number", "ru": "номер лицензии"},
    "kind.website": {"en": "website", "ru": "сайт"},
    "kind.email": {"en": "email", "ru": "эл. почта"},
    "kind.social": {"en": "social media", "ru": "соцсети"},
    "report.addresses": {"en": "Addresses, one a line", "ru": "Адреса, по одному в строке"},
    "report.websites": {"en": "Websites, one a line", "ru": "Сайты, по одному в строке"},
    "report.incident": {"en": "The incident", "ru": "Случай"},
    "report.date": {"en": "Date", "ru": "Дата"},
    "report.region": {"en": "Region", "ru": "Регион"},
    "report.destination": {
        "en": "Destination country (two letters)",
        "ru": "Страна назначения (две буквы)",
    },
    "report.job": {"en": "Job offered", "ru": "Предложенная работа"},
    "report.channel": {"en": "How it reached you", "ru": "Как поступило"},
    "channel.hotline_call": {"en": "hotline call", "ru": "звонок на горячую линию"},
    "channel.walk_in": {"en": "walk-in", "ru": "личное обращение"},
    "channel.online_ad": {"en": "online advert", "ru": "объявление в интернете"},
    "channel.social_media": {"en": "social media", "ru": "соцсети"},
    "channel.media": {"en": "media", "ru": "СМИ"},
    "channel.referral": {"en": "referral", "ru": "направление"},
    "channel.other": {"en": "other", "ru": "другое"},
    "report.indicators": {"en": "Indicators", "ru": "Признаки"},
    "report.indicators_hint": {
        "en": "Choose how sure you are of each indicator you heard; leave the rest empty.",
        "ru": "Укажите степень уверенности для каждого услышанного признака; остальные "
        "оставьте пустыми.",
    },
    "grade.": {"en": "—", "ru": "—"},
    "grade.confirmed": {"en": "confirmed", "ru": "подтверждено"},
    "grade.reported": {"en": "reported", "ru": "со слов"},
    "grade.suspected": {"en": "suspected", "ru": "подозрение"},
    "report.narrative": {
        "en": "What happened (shared with partners when sharing allows)",
        "ru": "Что произошло (видно партнёрам, если это разрешено)",
    },
    "report.source": {"en": "Source", "ru": "Источник"},
    "report.reliability": {
        "en": "Reliability of the source (A reliable … F cannot be judged)",
        "ru": "Надёжность источника (A надёжный … F нельзя оценить)",
    },
    "report.credibility": {
        "en": "Credibility of the information (1 confirmed … 6 cannot be judged)",
        "ru": "Достоверность сведений (1 подтверждено … 6 нельзя оценить)",
    },
    "report.sharing": {"en": "Who may see this report", "ru": "Кто видит сообщение"},
    "sharing.partners": {
        "en": "partners: all member organisations",
        "ru": "партнёры: все организации-участники",
    },
    "sharing.private": {
        "en": "private: our organisation only",
        "ru": "только наша организация",
    },
    "report.confidential": {
        "en": "Confidential: stays with your organisation",
        "ru": "Конфиденциально: остаётся в вашей организации",
    },
    "report.confidential_hint": {
        "en": "Sealed with a key of this report's own. No partner, auditor or firm ever sees it.",
        "ru": "Шифруется отдельным ключом этого сообщения. Его никогда не увидят ни партнёры, "
        "ни аудиторы, ни фирма.",
    },
    "report.caller_name": {"en": "Caller's name", "ru": "Имя позвонившего"},
    "report.caller_phone": {"en": "Caller's phone", "ru": "Телефон позвонившего"},
    "report.caller_email": {"en": "Caller's email", "ru": "Эл. почта позвонившего"},
    "report.victim_name": {"en": "Victim's name", "ru": "Имя пострадавшего"},
    "report.notes": {"en": "Notes", "ru": "Заметки"},
    "report.reason": {"en": "Reason for the change", "ru": "Причина изменения"},
    "report.submit": {"en": "Submit report", "ru": "Отправить сообщение"},
    "report.save": {"en": "Save amendment", "ru": "Сохранить изменение"},
    "report.invalid": {
        "en": "The report was not saved. Correct the fields marked below.",
        "ru": "Сообщение не сохранено. Исправьте отмеченные ниже поля.",
    },
    "report.recorded": {"en": "Report recorded", "ru": "Сообщение записано"},
    "report.firm": {"en": "Firm", "ru": "Фирма"},
    "report.not_projected": {
        "en": "Still being placed in a firm; reload in a moment.",
        "ru": "Ещё обрабатывается; обновите страницу через мгновение.",
    },
    "report.version": {"en": "Version", "ru": "Версия"},
    "report.status": {"en": "Status", "ru": "Статус"},
    "status.active": {"en": "active", "ru": "действует"},
    "status.retracted": {"en": "retracted", "ru": "отозвано"},
    "report.retract": {"en": "Retract report", "ru": "Отозвать сообщение"},
    "report.retract_reason": {"en": "Reason for retracting", "ru": "Причина отзыва"},
    "report.submitted_at": {"en": "Submitted", "ru": "Отправлено"},
    "report.dispute": {"en": "Dispute", "ru": "Оспаривание"},
    "report.sealed": {
        "en": "Confidential part: sealed for your role or organisation",
        "ru": "Конфиденциальная часть скрыта для вашей роли или организации",
    },
    "report.erased": {"en": "Confidential part: erased", "ru": "Конфиденциальная часть удалена"},
    "resolve.title": {"en": "The firm disputes this report", "ru": "Фирма оспаривает сообщение"},
    "resolve.hint": {
        "en": "Uphold the report, or retract it. A correction, which carries an amended "
        "version, is made through the API for now.",
        "ru": "Подтвердите сообщение или отзовите его. Исправление, содержащее изменённую "
        "версию, пока делается через API.",
    },
    "resolve.outcome": {"en": "Outcome", "ru": "Решение"},
    "resolve.upheld": {"en": "upheld: the report stands", "ru": "подтверждено: сообщение в силе"},
    "resolve.retracted": {
        "en": "retracted: the report counts no more",
        "ru": "отозвано: сообщение больше не учитывается",
    },
    "resolve.submit": {"en": "Resolve the dispute", "ru": "Разрешить спор"},
    "reports.title": {"en": "Our organisation's reports", "ru": "Сообщения нашей организации"},
    "reports.none": {"en": "No reports yet.", "ru": "Сообщений пока нет."},
    "more": {"en": "More", "ru": "Ещё"},
    # the firm page
    "firm.profile": {"en": "Profile", "ru": "Профиль"},
    "firm.names": {"en": "Names", "ru": "Названия"},
    "firm.identifiers": {"en": "Identifiers", "ru": "Идентификаторы"},
    "firm.addresses": {"en": "Addresses", "ru": "Адреса"},
    "firm.websites": {"en": "Websites", "ru": "Сайты"},
    "firm.destinations": {"en": "Destinations", "ru": "Страны назначения"},
    "firm.jobs": {"en": "Jobs offered", "ru": "Предлагаемая работа"},
    "firm.reports": {"en": "Reports", "ru": "Сообщения"},
    "firm.active": {"en": "active", "ru": "действующих"},
    "firm.retracted": {"en": "retracted", "ru": "отозванных"},
    "firm.score": {"en": "Score", "ru": "Баллы"},
    "firm.risk": {"en": "Why this level", "ru": "Почему такой уровень"},
    "firm.risk_none": {"en": "No points so far.", "ru": "Баллов пока нет."},
    "firm.report": {"en": "Report", "ru": "Сообщение"},
    "firm.indicator": {"en": "Indicator", "ru": "Признак"},
    "firm.grade": {"en": "Grade", "ru": "Степень"},
    "firm.points": {"en": "Points", "ru": "Баллы"},
    "firm.note": {"en": "Note", "ru": "Примечание"},
    "firm.licence_check": {"en": "Licence check", "ru": "Проверка лицензии"},
    "firm.chart": {
        "en": "Reports over time, by organisation",
        "ru": "Сообщения по месяцам и организациям",
    },
    "firm.timeline": {"en": "Timeline", "ru": "Хронология"},
    "firm.replies": {"en": "Replies and disputes", "ru": "Ответы и оспаривания"},
    "firm.no_replies": {"en": "The firm has not replied.", "ru": "Фирма не отвечала."},
    "firm.disputed": {"en": "Reports disputed, pending", "ru": "Оспоренные сообщения, ожидают"},
    "firm.licence": {"en": "Licence checks", "ru": "Проверки лицензии"},
    "firm.no_licence_check": {
        "en": "No licence check recorded.",
        "ru": "Проверок лицензии не записано.",
    },
    "firm.registry": {"en": "Registry", "ru": "Реестр"},
    "firm.checked_on": {"en": "Checked on", "ru": "Дата проверки"},
    "firm.licence_number": {"en": "Licence number", "ru": "Номер лицензии"},
    "firm.source": {"en": "Source", "ru": "Источник"},
    "firm.record_check": {"en": "Record a licence check", "ru": "Записать проверку лицензии"},
    "firm.decide": {"en": "Investigator's decisions", "ru": "Решения следователя"},
    "firm.other_firm": {"en": "The other firm's id", "ru": "Идентификатор другой фирмы"},
    "firm.reason": {"en": "Reason", "ru": "Причина"},
    "firm.link": {"en": "Link: these are one firm", "ru": "Объединить: это одна фирма"},
    "firm.separate": {
        "en": "Separate: these are different firms",
        "ru": "Разделить: это разные фирмы",
    },
    "firm.received_on": {"en": "Received on", "ru": "Дата получения"},
    "firm.statement": {"en": "Statement", "ru": "Заявление"},
    "firm.contact": {"en": "Contact", "ru": "Контакт"},
    "firm.record_reply": {"en": "Record the firm's reply", "ru": "Записать ответ фирмы"},
    "firm.disputes": {
        "en": "Reports the reply disputes",
        "ru": "Сообщения, которые оспаривает ответ",
    },
    # audit
    "audit.access": {"en": "Access log", "ru": "Журнал доступа"},
    "audit.checkpoints": {"en": "Checkpoints", "ru": "Контрольные точки"},
    "audit.verify": {"en": "Verify the log", "ru": "Проверить журнал"},
    "audit.org": {"en": "Organisation id", "ru": "Идентификатор организации"},
    "audit.firm": {"en": "Firm id", "ru": "Идентификатор фирмы"},
    "audit.report": {"en": "Report id", "ru": "Идентификатор сообщения"},
    "audit.since": {"en": "Since (ISO time)", "ru": "С (время ISO)"},
    "audit.until": {"en": "Until (ISO time)", "ru": "До (время ISO)"},
    "audit.search": {"en": "Search", "ru": "Найти"},
    "audit.at": {"en": "When", "ru": "Когда"},
    "audit.who": {"en": "Who", "ru": "Кто"},
    "audit.what": {"en": "Request", "ru": "Запрос"},
    "audit.status": {"en": "Status", "ru": "Код"},
    "audit.touched": {"en": "Reports and firms", "ru": "Сообщения и фирмы"},
    "audit.position": {"en": "Position", "ru": "Позиция"},
    "audit.hash": {"en": "Hash", "ru": "Хеш"},
    "audit.signed_at": {"en": "Signed at", "ru": "Подписано"},
    "audit.verify_run": {"en": "Run verification", "ru": "Запустить проверку"},
    "audit.verify_hint": {
        "en": "Recomputes the hash chain from the stored events and checks every signed "
        "checkpoint against the key stored beside it. For a proof independent of this server, "
        "export the log and verify it offline with the published public key.",
        "ru": "Заново вычисляет цепочку хешей по сохранённым событиям и проверяет каждую "
        "подписанную контрольную точку ключом, сохранённым рядом с ней. Для проверки, "
        "не зависящей от этого сервера, выгрузите журнал и проверьте его офлайн "
        "опубликованным открытым ключом.",
    },
    "audit.ok": {"en": "The log verifies", "ru": "Журнал прошёл проверку"},
    "audit.failed": {"en": "The log does NOT verify", "ru": "Журнал НЕ прошёл проверку"},
    "audit.events": {"en": "Events checked", "ru": "Проверено событий"},
    "audit.checked": {"en": "Checkpoints checked", "ru": "Проверено контрольных точек"},
    "audit.failed_at": {"en": "First failing position", "ru": "Первая ошибочная позиция"},
    "none": {"en": "none", "ru": "нет"},
    # errors
    "error.title": {"en": "This could not be done", "ru": "Не удалось выполнить"},
    "error.forbidden": {
        "en": "Your role may not do this.",
        "ru": "Вашей роли это не разрешено.",
    },
    "error.not_found": {"en": "Nothing here.", "ru": "Здесь ничего нет."},
    "error.not_projected": {
        "en": "The read models are not built yet: is the projector running?",
        "ru": "Данные ещё не построены: запущен ли проектор?",
    },
    "back": {"en": "Back", "ru": "Назад"},
    "error.country": {
        "en": "Two capital letters of the ISO country code, e.g. KZ",
        "ru": "Две заглавные буквы кода страны ISO, например KZ",
    },
    "error.names": {"en": "Give at least one name", "ru": "Укажите хотя бы одно название"},
    "error.choose": {"en": "Choose one of the options", "ru": "Выберите один из вариантов"},
    "error.date": {"en": "A date: year-month-day", "ru": "Дата: год-месяц-день"},
    "error.required": {"en": "This is required", "ru": "Обязательное поле"},
    "error.version": {
        "en": "This page is out of date: reload it and try again",
        "ru": "Страница устарела: обновите её и попробуйте ещё раз",
    },
    "error.format": {
        "en": "Not understood: an id (UUID) or an ISO time, e.g. 2026-10-02T09:00:00+00:00",
        "ru": "Не распознано: нужен идентификатор (UUID) или время ISO, например "
        "2026-10-02T09:00:00+00:00",
    },
    # the public page (en, ru, kk)
    "public.title": {
        "en": "Check a recruitment agency",
        "ru": "Проверьте кадровое агентство",
        "kk": "Жұмысқа орналастыру агенттігін тексеріңіз",
    },
    "public.intro": {
        "en": "Offered a job abroad? Type the agency's name or phone number to see whether "
        "anti-trafficking organisations have reported it.",
        "ru": "Вам предложили работу за границей? Введите название или телефон агентства и "
        "узнайте, поступали ли на него жалобы в организации по борьбе с торговлей людьми.",
        "kk": "Шетелден жұмыс ұсынды ма? Агенттіктің атауын немесе телефон нөмірін енгізіп, "
        "адам саудасына қарсы ұйымдарға ол туралы шағым түскен-түспегенін біліңіз.",
    },
    "public.label": {
        "en": "Agency name or phone number",
        "ru": "Название агентства или номер телефона",
        "kk": "Агенттік атауы немесе телефон нөмірі",
    },
    "public.button": {"en": "Check", "ru": "Проверить", "kk": "Тексеру"},
    "public.results": {
        "en": "What partner organisations report",
        "ru": "Что сообщают организации-партнёры",
        "kk": "Серіктес ұйымдар не хабарлайды",
    },
    "public.none": {
        "en": "Nothing is on record for this name or number. That does not prove the agency "
        "is safe.",
        "ru": "По этому названию или номеру сведений нет. Это не доказывает, что агентство "
        "безопасно.",
        "kk": "Бұл атау немесе нөмір бойынша мәлімет жоқ. Бұл агенттіктің қауіпсіз екенін "
        "дәлелдемейді.",
    },
    "public.organisations": {
        "en": "Organisations that reported it",
        "ru": "Сообщивших организаций",
        "kk": "Хабарлаған ұйымдар саны",
    },
    "public.level": {"en": "Risk level", "ru": "Уровень риска", "kk": "Қауіп деңгейі"},
    "public.licence": {"en": "Licence", "ru": "Лицензия", "kk": "Лицензия"},
    "public.latest": {
        "en": "Latest report",
        "ru": "Последнее сообщение",
        "kk": "Соңғы хабарлама",
    },
    "public.hotline": {
        "en": "Before you sign or pay anything, call your local anti-trafficking hotline.",
        "ru": "Прежде чем что-то подписывать или платить, позвоните на местную горячую линию "
        "по борьбе с торговлей людьми.",
        "kk": "Бірдеңеге қол қоймас немесе ақша төлемес бұрын, адам саудасына қарсы "
        "жергілікті сенім телефонына қоңырау шалыңыз.",
    },
    "public.too_short": {
        "en": "Type at least 3 characters.",
        "ru": "Введите не менее 3 символов.",
        "kk": "Кемінде 3 таңба енгізіңіз.",
    },
    "public.staff": {
        "en": "Staff of partner organisations: sign in",
        "ru": "Сотрудники организаций-партнёров: вход",
        "kk": "Серіктес ұйымдардың қызметкерлері: кіру",
    },
}


def translate(language: str) -> Callable[..., str]:
    """``t(key)`` in ``language``, English where a text has no translation."""

    def t(key: str, **values: Any) -> str:
        texts = TEXTS.get(key)
        if texts is None:
            return key
        text: str = texts.get(language) or texts["en"]
        return text.format(**values) if values else text

    return t


def choose(request: Request[Any, Any, Any], languages: Sequence[str]) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(COOKIE)
    if isinstance(asked, str) and asked in languages:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in languages:
            return tag
    return languages[0]
