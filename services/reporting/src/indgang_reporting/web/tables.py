"""Every table of every report: its columns (Danish and English names), how its rows
are labelled, and which column its chart shows. The page, the CSV export and the
charts are all made from these, so a figure is named the same everywhere.

CSV for Danish Excel: UTF-8 with a byte-order mark (without it Excel reads the file
as Windows-1252 and "æøå" come out garbled), `;` between fields and a decimal comma
(Danish Excel uses the comma for decimals, so a `,`-separated file would open as one
column, and "0.5" would become a date or text).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel

from indgang_contracts.events import (
    Department,
    InquiryChannel,
    Need,
    OrganisationStage,
    RsvCriterion,
)
from indgang_contracts.labels import Language, label

Kind = Literal["count", "share", "days", "text", "period"]
KeyKind = Literal[
    "period", "door", "need", "stage", "consultant", "target", "kind", "criterion", "none"
]

_MONTHS = {
    "da": "januar februar marts april maj juni juli august september oktober november december",
    "en": "January February March April May June July August September October November December",
}


@dataclass(frozen=True)
class Column:
    field: str
    da: str
    en: str
    kind: Kind = "count"

    def name(self, lang: Language) -> str:
        return self.da if lang == "da" else self.en


@dataclass(frozen=True)
class Table:
    name: str  # in URLs: /rapporter/<report>/<name>.csv
    attr: str  # the report model's list of rows
    da: str
    en: str
    key: KeyKind
    columns: tuple[Column, ...]
    chart: str | None = None  # the column drawn as bars
    with_total: bool = False  # the report's total row (`total_attr`) last
    total_attr: str = "total"

    def title(self, lang: Language) -> str:
        return self.da if lang == "da" else self.en

    def key_column(self, lang: Language) -> str:
        return _KEY_NAMES[self.key][0 if lang == "da" else 1]

    def rows(self, report: BaseModel) -> list[dict[str, Any]]:
        rows = [row.model_dump() for row in getattr(report, self.attr)]
        if self.with_total:
            rows.append(report.model_dump(include={self.total_attr})[self.total_attr])
        return rows


_KEY_NAMES = {
    "period": ("Periode", "Period"),
    "door": ("Indgang", "Door"),
    "need": ("Behov", "Need"),
    "stage": ("Stadie", "Stage"),
    "consultant": ("Konsulent", "Consultant"),
    "target": ("Afdeling / samarbejdspartner", "Department / provider"),
    "kind": ("Besked", "Message"),
    "criterion": ("Kriterium (lov nr. 711/2014 § 5)", "Criterion (Act no. 711/2014 § 5)"),
    "none": ("", ""),
}


def key_label(
    kind: KeyKind, key: str, lang: Language, names: Mapping[str, str] | None = None
) -> str:
    """A row's key in words ("november 2026", "Videresendt af Jobcentret", a consultant's
    name from `names`, ...)."""
    if key == "total":
        return "I alt" if lang == "da" else "Total"
    if kind == "consultant":
        return (names or {}).get(key, key)
    try:
        if kind == "period":
            return period_label(key, lang)
        if kind == "door":
            channel, _, by = key.partition(":")
            if by:
                name = label(Department(by), lang)
                return f"Videresendt af {name}" if lang == "da" else f"Forwarded by {name}"
            return label(InquiryChannel(channel), lang)
        if kind == "need":
            return label(Need(key), lang)
        if kind == "stage":
            return label(OrganisationStage(key), lang)
        if kind == "criterion":
            return label(RsvCriterion(key), lang)
        if kind == "target":
            department, _, provider = key.partition(":")
            name = label(Department(department), lang)
            return f"{name}: {provider}" if provider else name
    except ValueError:
        pass  # a code this version does not know: shown as it is
    return key


def period_label(key: str, lang: Language) -> str:
    if "-W" in key:
        year, week = key.split("-W")
        return f"uge {int(week)} {year}" if lang == "da" else f"week {int(week)} {year}"
    year, month = key.split("-")
    return f"{_MONTHS[lang].split()[int(month) - 1]} {year}"


def cell(value: Any, kind: Kind, lang: Language, *, for_csv: bool = False) -> str:
    if value is None:
        return "" if for_csv else "–"
    if kind == "period":
        return period_label(str(value), lang)
    if kind == "share":
        text = f"{float(value) * 100:.1f}"
        return _decimal(text, lang) + ("" if for_csv else " %")
    if kind == "days":
        return _decimal(f"{float(value):.1f}", lang)
    return str(value)


def _decimal(text: str, lang: Language) -> str:
    return text.replace(".", ",") if lang == "da" else text


def consultant_ids(report: BaseModel) -> set[str]:
    """The staff ids the report's consultant rows name."""
    return {
        str(row.get("key"))
        for t in REPORT_TABLES_BY_MODEL.get(type(report).__name__, ())
        if t.key == "consultant"
        for row in t.rows(report)
    }


def csv_text(
    table: Table, report: BaseModel, lang: Language = "da", names: Mapping[str, str] | None = None
) -> str:
    """The table as CSV for Danish Excel (see the module's docstring); the BOM first."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([table.key_column(lang), *(c.name(lang) for c in table.columns)])
    for row in table.rows(report):
        writer.writerow(
            [
                key_label(table.key, str(row.get("key", "")), lang, names),
                *(cell(row.get(c.field), c.kind, lang, for_csv=True) for c in table.columns),
            ]
        )
    return "\ufeff" + out.getvalue()


def csv_filename(report: str, table: Table, start: date, end: date) -> str:
    return f"indgang-{report}-{table.name}-{start.isoformat()}-{end.isoformat()}.csv"


C = Column
_INQUIRY_COLUMNS = (
    C("total", "Henvendelser", "Inquiries"),
    C("web", "Webformular", "Web form"),
    C("phone", "Telefon", "Phone"),
    C("email", "E-mail", "E-mail"),
    C("walk_in", "Personligt fremmøde", "In person"),
    C("forwarded", "Videresendt", "Forwarded"),
    C("follow_ups", "Heraf opfølgninger", "Of these follow-ups"),
)
_COUNT = (C("count", "Antal", "Count"),)
_FIRST_CONTACT = (
    C("cases", "Sager oprettet", "Cases opened"),
    C("contacted", "Kontaktet", "Contacted"),
    C("on_time", "Til tiden", "On time"),
    C("late", "For sent", "Late"),
    C("waiting", "Venter, inden for fristen", "Waiting, within deadline"),
    C("share_on_time", "Andel til tiden", "Share on time", "share"),
    C("median_days", "Median, dage", "Median, days", "days"),
    C("p90_days", "90 %-fraktil, dage", "90th percentile, days", "days"),
)
_REFERRAL = (
    C("made", "Henvisninger", "Referrals"),
    C("answered", "Besvaret", "Answered"),
    C("accepted", "Accepteret", "Accepted"),
    C("declined", "Afvist", "Declined"),
    C("completed", "Afsluttet", "Completed"),
    C("overdue", "Svarfrist overskredet", "Answer overdue"),
    C("median_days_to_answer", "Median svartid, dage", "Median time to answer, days", "days"),
)
# Columns more than one table shows, named once.
_WON = (
    C("rsv_registrations_helped", "Hjulpet til RSV-registrering", "Helped to RSV registration"),
    C("supplier_agreements", "Leverandøraftaler", "Supplier agreements"),
    C("social_clauses", "Sociale klausuler", "Social clauses"),
)
_INSTRUMENTS = (
    C("wage_subsidy_hires", "Løntilskud", "Wage subsidy"),
    C("flex_jobs", "Fleksjob", "Flexjob"),
    C("work_placements", "Virksomhedspraktik", "Work placement"),
)
_CLOSED = (
    C("closed", "Lukkede sager", "Cases closed"),
    C("reopened", "Genåbnede", "Reopened"),
    C("with_outcomes", "Heraf med social værdi", "Of these with social value"),
    C("people_employed", "Personer ansat", "People employed"),
    *_WON,
)
_SOCIAL = (
    C("completed_referrals", "Afsluttede henvisninger", "Completed referrals"),
    *_INSTRUMENTS,
    C("other_hires", "Andre ansættelser", "Other hires"),
    C("total_hires", "Ansatte i alt", "People employed in all"),
)
_RECORDINGS = (
    C("recordings", "Registreringer", "Recordings"),
    C("cases", "Sager", "Cases"),
)
_EMPLOYED = (
    *_INSTRUMENTS,
    C("ordinary_hires", "Ordinære vilkår", "Ordinary terms"),
)
_PEOPLE = (C("people_employed", "Personer ansat i alt", "People employed in all"),)
_RSV = (
    C("cases", "Sager med tjekliste", "Cases with a checklist"),
    C("ready", "Klar (alle fem opfyldt)", "Ready (all five met)"),
    C("registered", "RSV-registreret", "RSV-registered"),
    C("ready_not_registered", "Klar, ikke registreret endnu", "Ready, not registered yet"),
)
_CRITERION = (
    C("met", "Opfyldt", "Met"),
    C("not_yet", "Ikke endnu", "Not yet"),
    C("unknown", "Ved ikke", "Unknown"),
)
_MESSAGES = (
    C("delivered", "Leveret", "Delivered"),
    C("failed", "Opgivet", "Given up"),
)

REPORT_TABLES: dict[str, tuple[Table, ...]] = {
    "inquiries": (
        Table(
            "perioder",
            "periods",
            "Henvendelser pr. periode",
            "Inquiries per period",
            "period",
            _INQUIRY_COLUMNS,
            chart="total",
            with_total=True,
        ),
        Table("indgange", "by_door", "Efter indgang", "By door", "door", _COUNT, chart="count"),
        Table("behov", "by_need", "Efter behov", "By need", "need", _COUNT, chart="count"),
        Table("stadier", "by_stage", "Efter stadie", "By stage", "stage", _COUNT),
        Table(
            "konsulenter",
            "by_consultant",
            "Efter konsulent",
            "By consultant",
            "consultant",
            _COUNT,
        ),
    ),
    "first-contact": (
        Table(
            "perioder",
            "periods",
            "Første kontakt pr. periode (efter oprettelse)",
            "First contact per period (by opening)",
            "period",
            _FIRST_CONTACT,
            chart="share_on_time",
            with_total=True,
        ),
        Table(
            "konsulenter",
            "by_consultant",
            "Efter konsulent",
            "By consultant",
            "consultant",
            _FIRST_CONTACT,
        ),
        Table(
            "overskredet-nu",
            "overdue_now",
            "Overskredet frist nu (åbne sager uden kontakt)",
            "Overdue now (open cases not contacted)",
            "consultant",
            _COUNT,
        ),
    ),
    "referrals": (
        Table(
            "modtagere",
            "by_target",
            "Efter afdeling og samarbejdspartner",
            "By department and provider",
            "target",
            _REFERRAL,
            chart="made",
        ),
        Table(
            "perioder",
            "periods",
            "Henvisninger pr. periode",
            "Referrals per period",
            "period",
            _REFERRAL,
            with_total=True,
        ),
        Table(
            "afvisninger",
            "declined_reasons",
            "Afvisninger og begrundelser",
            "Declines and reasons",
            "target",
            (
                C("period", "Periode (henvist)", "Period (referred)", "period"),
                C("reason", "Begrundelse", "Reason", "text"),
            ),
        ),
    ),
    "closed": (
        Table(
            "perioder",
            "periods",
            "Lukkede sager og deres sociale værdi pr. periode",
            "Cases closed and their social value per period",
            "period",
            _CLOSED,
            chart="closed",
            with_total=True,
        ),
        Table(
            "konsulenter",
            "by_consultant",
            "Efter konsulent",
            "By consultant",
            "consultant",
            _CLOSED,
        ),
    ),
    "social-value": (
        Table(
            "registreret",
            "recorded_periods",
            "Personer ansat, registreret af konsulenten, pr. periode (efter dagen værdien "
            "hører til)",
            "People employed, recorded by the consultant, per period (by the day the value "
            "belongs to)",
            "period",
            (*_RECORDINGS, *_EMPLOYED, *_PEOPLE),
            chart="people_employed",
            with_total=True,
            total_attr="recorded_total",
        ),
        Table(
            "registreret-rsv-aftaler",
            "recorded_periods",
            "RSV-registreringer, leverandøraftaler og sociale klausuler, registreret af "
            "konsulenten, pr. periode",
            "RSV registrations, supplier agreements and social clauses, recorded by the "
            "consultant, per period",
            "period",
            _WON,
            with_total=True,
            total_attr="recorded_total",
        ),
        Table(
            "registreret-konsulenter",
            "recorded_by_consultant",
            "Registreret af konsulenten, efter konsulent",
            "Recorded by the consultant, by consultant",
            "consultant",
            (*_RECORDINGS, *_PEOPLE, *_WON),
        ),
        Table(
            "perioder",
            "periods",
            "Gennem afsluttede henvisninger pr. periode (efter afslutning)",
            "Through completed referrals per period (by completion)",
            "period",
            _SOCIAL,
            chart="total_hires",
            with_total=True,
        ),
        Table(
            "modtagere",
            "by_target",
            "Efter afdeling og samarbejdspartner",
            "By department and provider",
            "target",
            _SOCIAL,
        ),
        Table(
            "konsulenter",
            "by_consultant",
            "Gennem afsluttede henvisninger, efter konsulent",
            "Through completed referrals, by consultant",
            "consultant",
            _SOCIAL,
        ),
    ),
    "rsv-readiness": (
        Table(
            "perioder",
            "periods",
            "RSV-parathed pr. periode (efter tjeklistens seneste ændring)",
            "RSV readiness per period (by the checklist's latest change)",
            "period",
            _RSV,
            chart="ready",
            with_total=True,
        ),
        Table(
            "kriterier",
            "by_criterion",
            "Efter kriterium",
            "By criterion",
            "criterion",
            _CRITERION,
            chart="met",
        ),
        Table(
            "konsulenter",
            "by_consultant",
            "Efter konsulent",
            "By consultant",
            "consultant",
            _RSV,
        ),
    ),
    "messages": (
        Table(
            "perioder",
            "periods",
            "Beskeder pr. periode",
            "Messages per period",
            "period",
            _MESSAGES,
            chart="delivered",
            with_total=True,
        ),
        Table("typer", "by_kind", "Efter beskedtype", "By kind of message", "kind", _MESSAGES),
    ),
}

REPORT_TABLES_BY_MODEL: dict[str, tuple[Table, ...]] = {
    "InquiriesReport": REPORT_TABLES["inquiries"],
    "FirstContactReport": REPORT_TABLES["first-contact"],
    "ReferralsReport": REPORT_TABLES["referrals"],
    "ClosedReport": REPORT_TABLES["closed"],
    "SocialValueReport": REPORT_TABLES["social-value"],
    "RsvReadinessReport": REPORT_TABLES["rsv-readiness"],
    "MessagesReport": REPORT_TABLES["messages"],
}

REPORT_NAMES: dict[str, tuple[str, str, str]] = {
    # report: (URL slug, Danish title, English title)
    "inquiries": ("henvendelser", "Henvendelser", "Inquiries"),
    "first-contact": ("foerste-kontakt", "Første kontakt", "First contact"),
    "referrals": ("henvisninger", "Henvisninger", "Referrals"),
    "closed": ("lukkede-sager", "Lukkede sager", "Cases closed"),
    "social-value": ("social-vaerdi", "Social værdi", "Social value"),
    "rsv-readiness": ("rsv-parathed", "RSV-parathed", "RSV readiness"),
    "messages": ("beskeder", "Beskeder", "Messages"),
}
BY_SLUG = {slug: report for report, (slug, _, _) in REPORT_NAMES.items()}


def table_of(report: str, name: str) -> Table | None:
    return next((t for t in REPORT_TABLES.get(report, ()) if t.name == name), None)


def all_tables() -> Sequence[Table]:
    return [t for tables in REPORT_TABLES.values() for t in tables]
