"""Intake's page texts in Danish and English (Danish first; English falls back to Danish).

Plain language: short sentences, what happens next. The public pages (form, receipt,
privacy notice) say "du" to the reader throughout, and name the organisation as
"organisationen"; the staff form speaks about "henvenderen" (the inquirer).
Placeholders in braces are filled in by the templates with `str.format`.
"""

from __future__ import annotations

from indgang_runtime.pages import Translations

T = dict[str, dict[str, str]]

# The codes' labels (needs, stages, channels, departments) are not here: they come from
# the contracts' one label table (indgang_contracts.labels, via web.forms.code_label).
ENUM_TEXTS: T = {
    "language.da": {"da": "Dansk", "en": "Danish"},
    "language.en": {"da": "Engelsk", "en": "English"},
}

PAGE_TEXTS: T = {
    # The form page
    "form.title": {
        "da": "Kontakt kommunen om socialøkonomi",
        "en": "Contact the municipality about social economy",
    },
    "form.lead": {
        "da": "Her kan socialøkonomiske virksomheder, sociale iværksættere og virksomheder, "
        "der vil drive en del af forretningen socialøkonomisk, kontakte kommunen. Du får én "
        "fast konsulent, som er din indgang til hele kommunen – uanset om du har brug for "
        "Jobcentret, Erhvervsservice, Indkøb eller andre.",
        "en": "Social-economy enterprises, social entrepreneurs and companies that want to run "
        "part of their business as social economy can contact the municipality here. You get "
        "one consultant who is your way into the whole municipality – whether you need the job "
        "centre, business service, procurement or others.",
    },
    "expect.title": {
        "da": "Hvad kan kommunen hjælpe med?",
        "en": "What can the municipality help with?",
    },
    "expect.intro": {
        "da": "Mange forventer mere, end en kommune kan give. Derfor står det her, før du "
        "skriver til os.",
        "en": "Many expect more than a municipality can give. So here it is, before you "
        "write to us.",
    },
    "expect.can.title": {"da": "Det kan vi", "en": "What we can do"},
    "expect.can.1": {
        "da": "Give dig én navngiven konsulent, som kender din sag og taler med de "
        "afdelinger, der skal inddrages.",
        "en": "Give you one named consultant who knows your case and talks to the "
        "departments that need to be involved.",
    },
    "expect.can.2": {
        "da": "Vejlede om lovgivning og støttemuligheder, når du vil ansætte ledige, der har "
        "svært ved at få job (fx løntilskud, virksomhedspraktik, fleksjob og mentor).",
        "en": "Advise on legislation and support when you want to hire unemployed people who "
        "find it hard to get a job (e.g. wage subsidy, work placement, flex job and mentor).",
    },
    "expect.can.3": {
        "da": "Give grundlæggende, lokal erhvervsvejledning, fx om at starte og drive "
        "virksomhed her i kommunen (erhvervsfremmeloven § 14), og henvise dig til kurser i "
        "forretningsudvikling og mentoruddannelse.",
        "en": "Give basic local business guidance, e.g. on starting and running a business "
        "here (Business Promotion Act § 14), and refer you to courses in business "
        "development and mentor training.",
    },
    "expect.can.4": {
        "da": "Skabe kontakt til kommunens indkøbsafdeling og forklare, hvordan kommunen køber "
        "ind.",
        "en": "Put you in touch with the municipality's procurement department and explain how "
        "the municipality buys.",
    },
    "expect.can.5": {
        "da": "Hjælpe dig med at forberede registrering som registreret socialøkonomisk "
        "virksomhed (RSV).",
        "en": "Help you prepare registration as a registered social-economy enterprise (RSV).",
    },
    "expect.cannot.title": {"da": "Det kan vi ikke", "en": "What we cannot do"},
    "expect.cannot.1": {
        "da": "Give direkte økonomisk støtte eller tilskud til den enkelte virksomhed "
        "(erhvervsfremmeloven § 14). Vi kan fortælle om ordninger og fonde, du selv kan søge.",
        "en": "Give direct financial support or grants to an individual enterprise (Business "
        "Promotion Act § 14). We can tell you about schemes and funds you can apply to "
        "yourself.",
    },
    "expect.cannot.2": {
        "da": "Give specialiseret forretningsrådgivning, fx om forretningsplan, "
        "forretningsmodel, finansiering og vækst. Den giver Erhvervshuset gratis, og "
        "konsulenten hjælper dig derhen.",
        "en": "Give specialised business advice, e.g. on your business plan, business model, "
        "funding and growth. The regional Business Hub (Erhvervshus) gives it free of "
        "charge, and the consultant helps you get there.",
    },
    "expect.cannot.3": {
        "da": "Love dig opgaver eller aftaler med kommunen. Kommunen køber ind efter "
        "udbudsreglerne.",
        "en": "Promise you work or contracts with the municipality. The municipality buys by "
        "the public procurement rules.",
    },
    "unit.title": {"da": "Her finder du os", "en": "Where to find us"},
    "unit.intro": {
        "da": "Din henvendelse går til {name} i {municipality}.",
        "en": "Your inquiry goes to {name} at {municipality}.",
    },
    "unit.phone": {"da": "Telefon", "en": "Phone"},
    "unit.address": {"da": "Adresse", "en": "Address"},
    "expect.more": {
        "da": "Læs mere: Hvad kan kommunen hjælpe med?",
        "en": "Read more: What can the municipality help with?",
    },
    "form.required_note": {
        "da": "Alle felter skal udfyldes, medmindre der står (frivilligt).",
        "en": "All fields are required unless marked (optional).",
    },
    "form.optional": {"da": "(frivilligt)", "en": "(optional)"},
    "form.organisation": {"da": "Om organisationen", "en": "About the organisation"},
    "form.organisation.name": {
        "da": "Organisationens navn",
        "en": "Name of the organisation",
    },
    "form.organisation.name.hint": {
        "da": "Har du kun en idé, så skriv et arbejdsnavn.",
        "en": "If you only have an idea, write a working name.",
    },
    "form.organisation.cvr": {"da": "CVR-nummer", "en": "CVR number"},
    "form.organisation.cvr.hint": {
        "da": "8 cifre. Lad feltet være tomt, hvis organisationen ikke har et CVR-nummer endnu.",
        "en": "8 digits. Leave it empty if the organisation does not have a CVR number yet.",
    },
    "form.organisation.stage": {
        "da": "Hvor langt er organisationen kommet?",
        "en": "How far has the organisation come?",
    },
    "form.contact": {"da": "Kontaktperson", "en": "Contact person"},
    "form.contact.name": {"da": "Dit navn", "en": "Your name"},
    "form.contact.email": {"da": "E-mail", "en": "E-mail"},
    "form.contact.email.hint": {
        "da": "Vi sender en kvittering hertil.",
        "en": "We send a receipt here.",
    },
    "form.contact.phone": {"da": "Telefonnummer", "en": "Phone number"},
    "form.contact.phone.hint": {
        "da": "Danske numre med 8 cifre. Udenlandske numre med landekode, fx +46.",
        "en": "Danish numbers with 8 digits. Foreign numbers with country code, e.g. +46.",
    },
    "form.contact.language": {
        "da": "Hvilket sprog vil du helst skrive og tale på?",
        "en": "Which language do you prefer?",
    },
    "form.needs": {
        "da": "Hvad vil du gerne have hjælp til?",
        "en": "What would you like help with?",
    },
    "form.needs.hint": {"da": "Vælg alt det, der passer.", "en": "Choose all that apply."},
    "form.description": {
        "da": "Fortæl kort om din situation og dine spørgsmål",
        "en": "Tell us briefly about your situation and questions",
    },
    "form.description.hint": {
        "da": "Højst 5000 tegn. Skriv ikke CPR-numre eller oplysninger om helbred.",
        "en": "At most 5000 characters. Do not write CPR numbers or health information.",
    },
    "form.privacy": {
        "da": "Sådan behandler vi dine oplysninger",
        "en": "How we handle your data",
    },
    "form.privacy.summary": {
        "da": "{municipality} er dataansvarlig. Vi bruger oplysningerne til at besvare din "
        "henvendelse og give dig én fast konsulent. Konsulenten og teamlederen kan se dem; "
        "andre afdelinger eller samarbejdspartnere får kun dine kontaktoplysninger, hvis du "
        "siger ja til det. Kontaktoplysninger og beskrivelse slettes {after_close} dage efter, "
        "at sagen er afsluttet, og senest efter {max_years} år. Du har ret til indsigt, "
        "berigtigelse, sletning og til at gøre indsigelse.",
        "en": "{municipality} is the data controller. We use the data to answer your inquiry "
        "and give you one consultant. The consultant and the team lead can see it; other "
        "departments or partners only get your contact details if you agree. Contact details "
        "and description are deleted {after_close} days after your case is closed, and at the "
        "latest after {max_years} years. You have the right of access, rectification, erasure "
        "and to object.",
    },
    "form.privacy.link": {
        "da": "Læs hele privatlivserklæringen",
        "en": "Read the full privacy notice",
    },
    "form.privacy.accept": {
        "da": "Jeg har læst, hvordan kommunen behandler mine oplysninger",
        "en": "I have read how the municipality handles my data",
    },
    "form.honeypot": {
        "da": "Lad dette felt være tomt (det er til at fange automatiske robotter)",
        "en": "Leave this field empty (it catches automated robots)",
    },
    "form.submit": {"da": "Send henvendelse", "en": "Send inquiry"},
    "errors.title": {
        "da": "Der er problemer med din henvendelse",
        "en": "There are problems with your inquiry",
    },
    "errors.intro": {
        "da": "Ret felterne herunder og send igen. Det, du har skrevet, er gemt i formularen.",
        "en": "Correct the fields below and send again. What you wrote is kept in the form.",
    },
    "errors.prefix": {"da": "Fejl:", "en": "Error:"},
    "limit.title": {
        "da": "Du har sendt mange henvendelser på kort tid",
        "en": "You have sent many inquiries in a short time",
    },
    "limit.text": {
        "da": "For at beskytte tjenesten mod misbrug skal du vente {seconds} sekunder, før du "
        "sender igen. Det, du har skrevet, er gemt i formularen.",
        "en": "To protect the service from abuse, please wait {seconds} seconds before you "
        "send again. What you wrote is kept in the form.",
    },
    "unavailable.title": {
        "da": "Din henvendelse er ikke sendt endnu",
        "en": "Your inquiry has not been sent yet",
    },
    "unavailable.text": {
        "da": "Vi kunne ikke gemme den lige nu. Vent et øjeblik, og send igen. Det, du har "
        "skrevet, er gemt i formularen.",
        "en": "We could not save it just now. Wait a moment and send again. What you wrote is "
        "kept in the form.",
    },
    "toolarge.title": {
        "da": "Henvendelsen er for stor",
        "en": "The inquiry is too large",
    },
    "toolarge.text": {
        "da": "Vi kan højst modtage {kib} KiB på én gang. Gør beskrivelsen kortere, og send "
        "igen. Hvis du har brug for at sende bilag, så vent til din konsulent kontakter dig.",
        "en": "We can receive at most {kib} KiB at a time. Make the description shorter and "
        "send again. If you need to send attachments, wait until your consultant contacts you.",
    },
    "toolarge.back": {"da": "Tilbage til formularen", "en": "Back to the form"},
    # Receipt
    "receipt.title": {
        "da": "Tak – vi har modtaget din henvendelse",
        "en": "Thank you – we have received your inquiry",
    },
    "receipt.reference": {"da": "Dit referencenummer", "en": "Your reference number"},
    "receipt.reference.hint": {
        "da": "Oplys referencenummeret, hvis du kontakter os om henvendelsen.",
        "en": "Quote the reference number if you contact us about the inquiry.",
    },
    "receipt.follow_up": {
        "da": "Vi kan se, at organisationen har været i kontakt med os før. Henvendelsen er "
        "lagt til den eksisterende kontakt, så du fortsætter med den samme konsulent. Du "
        "behøver ikke forklare igen, hvem du er.",
        "en": "We can see that the organisation has been in touch with us before. The inquiry "
        "has been added to the existing contact, so you continue with the same consultant. "
        "You do not need to explain again who you are.",
    },
    "receipt.next": {"da": "Hvad sker der nu?", "en": "What happens next?"},
    "receipt.next.1": {
        "da": "Din henvendelse er gemt. Du får også en kvittering på e-mail.",
        "en": "Your inquiry is saved. You will also get a receipt by e-mail.",
    },
    "receipt.next.2": {
        "da": "En navngiven konsulent bliver din faste kontakt i kommunen og kontakter dig "
        "inden for {days} arbejdsdage.",
        "en": "A named consultant becomes your one contact in the municipality and contacts "
        "you within {days} working days.",
    },
    "receipt.next.3": {
        "da": "Konsulenten inddrager de afdelinger og samarbejdspartnere, der kan hjælpe. Du "
        "skal ikke selv finde rundt i kommunen.",
        "en": "The consultant brings in the departments and partners who can help. You do not "
        "have to find your own way around the municipality.",
    },
    "receipt.scope": {
        "da": "Konsulenten giver grundlæggende, lokal erhvervsvejledning (erhvervsfremmeloven "
        "§ 14). Har du brug for specialiseret forretningsrådgivning, fx om forretningsplan, "
        "finansiering eller vækst, hjælper konsulenten dig videre til Erhvervshuset, som "
        "giver den gratis.",
        "en": "The consultant gives basic local business guidance (Business Promotion Act "
        "§ 14). If you need specialised business advice, e.g. on your business plan, funding "
        "or growth, the consultant helps you on to the regional Business Hub (Erhvervshus), "
        "which gives it free of charge.",
    },
    "receipt.again": {"da": "Send en ny henvendelse", "en": "Send a new inquiry"},
    # Privacy notice
    "privacy.title": {"da": "Privatlivserklæring", "en": "Privacy notice"},
    "privacy.version": {"da": "Version {version}", "en": "Version {version}"},
    "privacy.controller.title": {"da": "Dataansvarlig", "en": "Data controller"},
    "privacy.controller.text": {
        "da": "{municipality} er dataansvarlig for de oplysninger, du giver os gennem "
        "Én indgang for socialøkonomi.",
        "en": "{municipality} is the data controller for the data you give us through the "
        "one entrance for social economy.",
    },
    "privacy.purpose.title": {"da": "Formål", "en": "Purpose"},
    "privacy.purpose.text": {
        "da": "Vi bruger oplysningerne til at besvare din henvendelse, give dig én fast "
        "konsulent og – hvis du siger ja – inddrage andre afdelinger og samarbejdspartnere, "
        "der kan hjælpe. Uden personoplysninger bruger vi også tal om henvendelserne til "
        "statistik, fx hvilke afdelinger folk først henvender sig til.",
        "en": "We use the data to answer your inquiry, give you one consultant and – if you "
        "agree – involve other departments and partners who can help. Without personal data, "
        "we also use figures about inquiries for statistics, e.g. which departments people "
        "contact first.",
    },
    "privacy.basis.title": {"da": "Retsgrundlag", "en": "Legal basis"},
    "privacy.basis.text": {
        "da": "Databeskyttelsesforordningens artikel 6, stk. 1, litra e: behandlingen er "
        "nødvendig for at udføre kommunens opgaver med erhvervsfremme og beskæftigelse.",
        "en": "Article 6(1)(e) of the General Data Protection Regulation: the processing is "
        "necessary for the municipality's tasks in business promotion and employment.",
    },
    "privacy.data.title": {"da": "Hvad vi gemmer", "en": "What we store"},
    "privacy.data.1": {
        "da": "Organisationen: navn, CVR-nummer (hvis den har et) og hvor langt den er kommet.",
        "en": "The organisation: name, CVR number (if any) and how far it has come.",
    },
    "privacy.data.2": {
        "da": "Dig: navn, e-mail, telefonnummer (hvis du giver det) og foretrukket sprog.",
        "en": "You: name, e-mail, phone number (if you give it) and preferred language.",
    },
    "privacy.data.3": {
        "da": "Det, du vil have hjælp til, og din beskrivelse.",
        "en": "What you want help with, and your description.",
    },
    "privacy.data.4": {
        "da": "Hvornår og hvordan henvendelsen kom ind, og hvilken version af denne "
        "erklæring du har set.",
        "en": "When and how the inquiry came in, and which version of this notice you saw.",
    },
    "privacy.data.5": {
        "da": "Vi gemmer ikke din IP-adresse. Den bruges kun et øjeblik til at begrænse "
        "misbrug. Vi bruger ingen sporing og kun én cookie, som husker dit sprogvalg.",
        "en": "We do not store your IP address. It is used only briefly to limit abuse. We use "
        "no tracking and only one cookie, which remembers your language choice.",
    },
    "privacy.recipients.title": {"da": "Hvem ser oplysningerne", "en": "Who sees the data"},
    "privacy.recipients.text": {
        "da": "Din konsulent og konsulentens teamleder. Andre afdelinger i kommunen (fx "
        "Jobcentret, Erhvervsservice eller Indkøb) og eksterne samarbejdspartnere får kun "
        "dine kontaktoplysninger, hvis du har sagt ja til det. Vi videregiver ikke "
        "oplysningerne til andre.",
        "en": "Your consultant and the consultant's team lead. Other departments (e.g. the "
        "job centre, business service or procurement) and outside partners only get your "
        "contact details if you have agreed. We do not pass the data on to anyone else.",
    },
    "privacy.deadlines.title": {"da": "Slettefrister", "en": "Deletion deadlines"},
    "privacy.deadlines.kind": {"da": "Oplysninger", "en": "Data"},
    "privacy.deadlines.when": {"da": "Slettes", "en": "Deleted"},
    "privacy.deadlines.contact": {
        "da": "Dit navn, din e-mail, dit telefonnummer og din beskrivelse",
        "en": "Your name, e-mail, phone number and description",
    },
    "privacy.deadlines.contact.when": {
        "da": "{after_close} dage efter, at sagen er afsluttet – og senest {max_days} dage "
        "(ca. {max_years} år) efter, at vi modtog henvendelsen",
        "en": "{after_close} days after your case is closed – and at the latest {max_days} "
        "days (about {max_years} years) after we received the inquiry",
    },
    "privacy.deadlines.org": {
        "da": "Organisationens navn uden CVR-nummer",
        "en": "The organisation's name without a CVR number",
    },
    "privacy.deadlines.org.when": {
        "da": "Samtidig med dine kontaktoplysninger",
        "en": "Together with your contact details",
    },
    "privacy.deadlines.stats": {
        "da": "Organisation med CVR-nummer, emner og hvordan henvendelsen kom ind",
        "en": "Organisation with a CVR number, topics and how the inquiry came in",
    },
    "privacy.deadlines.stats.when": {
        "da": "Gemmes uden personoplysninger til statistik",
        "en": "Kept without personal data for statistics",
    },
    # What the other services keep (issue 12, finding 7): routing (the case),
    # notifications (messages) and guide (recommendations); each README says how.
    "privacy.deadlines.case": {
        "da": "Din sag hos konsulenten: kontaktoplysninger, beskrivelser, noter, "
        "henvisningers formål og svar, sagens forløb og udfald",
        "en": "Your case with the consultant: contact details, descriptions, notes, "
        "referrals' purposes and answers, the case history and outcome",
    },
    "privacy.deadlines.case.when": {
        "da": "Anonymiseres {after_close} dage efter, at sagen er afsluttet – og senest "
        "{max_days} dage efter, at vi modtog henvendelsen, også hvis sagen stadig er åben. "
        "Genåbnes sagen før fristen, gælder fristen igen fra den næste afslutning. Sagens "
        "nummer, status, datoer, konsulent, emner og organisation med CVR-nummer gemmes "
        "uden personoplysninger til statistik",
        "en": "Anonymised {after_close} days after your case is closed – and at the latest "
        "{max_days} days after we received the inquiry, even if the case is still open. If "
        "the case is reopened before the deadline, the deadline counts again from the next "
        "closing. The case's number, status, dates, consultant, topics and an organisation "
        "with a CVR number are kept without personal data for statistics",
    },
    "privacy.deadlines.messages": {
        "da": "Beskeder til dig og om din sag: modtager, emne og indhold",
        "en": "Messages to you and about your case: recipient, subject and content",
    },
    "privacy.deadlines.messages.when": {
        "da": "Indholdet slettes, når beskeden er sendt. Modtager, emne og indholdet af "
        "beskeder, der ikke kunne sendes, slettes efter samme frister som din sag",
        "en": "The content is deleted once the message is sent. The recipient, subject and "
        "the content of messages that could not be sent are deleted on the same deadlines "
        "as your case",
    },
    "privacy.deadlines.guide": {
        "da": "Anbefalede vejledninger til din sag",
        "en": "Guidance recommended for your case",
    },
    "privacy.deadlines.guide.when": {
        "da": "Indeholder kun sagens nummer, emner og fase – ingen personoplysninger",
        "en": "Holds only the case's number, topics and stage – no personal data",
    },
    # Kafka keeps every topic 7 days (log.retention.hours=168 in deploy/kafka/server*.
    # properties, no per-topic retention in indgang_runtime.topics) after its log
    # segment closes, and a segment closes after at most 7 days (log.roll.hours'
    # default, 168): 14 days in all. tests/test_privacy_notice.py checks the figures.
    "privacy.deadlines.kafka": {
        "da": "Kopier af hændelser i systemets interne beskedkø (Kafka), fx at din "
        "henvendelse er modtaget – med dine kontaktoplysninger",
        "en": "Copies of events in the system's internal message queue (Kafka), e.g. that "
        "your inquiry was received – with your contact details",
    },
    "privacy.deadlines.kafka.when": {
        "da": "Slettes automatisk {kafka_days} dage efter, at den del af køen, de ligger i, "
        "er lukket – højst {kafka_max_days} dage efter, at hændelsen blev skrevet. De kan "
        "ikke slettes enkeltvis før",
        "en": "Deleted automatically {kafka_days} days after the part of the queue they are "
        "in is closed – at most {kafka_max_days} days after the event was written. They "
        "cannot be deleted one by one before that",
    },
    "privacy.deadlines.retry": {
        "da": "Teknisk kvittering for en gentaget afsendelse",
        "en": "Technical record of a repeated submission",
    },
    "privacy.deadlines.retry.when": {
        "da": "Efter {hours} timer",
        "en": "After {hours} hours",
    },
    "privacy.rights.title": {"da": "Dine rettigheder", "en": "Your rights"},
    "privacy.rights.text": {
        "da": "Du har ret til at få indsigt i de oplysninger, vi har om dig, til at få forkerte "
        "oplysninger rettet, til at få oplysninger slettet eller behandlingen begrænset, og "
        "til at gøre indsigelse mod behandlingen. Du kan klage til Datatilsynet "
        "(datatilsynet.dk).",
        "en": "You have the right to access the data we hold about you, to have wrong data "
        "corrected, to have data erased or the processing restricted, and to object to the "
        "processing. You can complain to the Danish Data Protection Agency (datatilsynet.dk).",
    },
    "privacy.dpo.title": {"da": "Kontakt", "en": "Contact"},
    "privacy.dpo.text": {
        "da": "Skriv til kommunens databeskyttelsesrådgiver (DPO) på",
        "en": "Write to the municipality's data protection officer (DPO) at",
    },
    "privacy.back": {"da": "Tilbage til formularen", "en": "Back to the form"},
    # Accessibility statement
    "a11y.title": {"da": "Tilgængelighedserklæring", "en": "Accessibility statement"},
    "a11y.intro": {
        "da": "{municipality} ønsker, at alle kan bruge Én indgang for socialøkonomi. Denne "
        "erklæring gælder formularen, kvitteringen og siderne i tjenesten og følger lov om "
        "tilgængelighed af offentlige organers websteder og mobilapplikationer.",
        "en": "{municipality} wants everyone to be able to use the one entrance for social "
        "economy. This statement covers the form, the receipt and the pages of the service, "
        "under the Danish act on the accessibility of public sector websites and mobile "
        "applications.",
    },
    "a11y.status.title": {"da": "Overholdelse", "en": "Compliance status"},
    "a11y.status.text": {
        "da": "Tjenesten er bygget til at overholde WCAG 2.1 niveau AA og bygger på Det Fælles "
        "Designsystem. Den virker uden JavaScript, med tastatur alene og på en smal "
        "telefonskærm.",
        "en": "The service is built to meet WCAG 2.1 level AA and uses Det Fælles Designsystem "
        "(the Danish common design system). It works without JavaScript, with the keyboard "
        "alone and on a narrow phone screen.",
    },
    "a11y.test.title": {"da": "Sådan har vi testet", "en": "How we tested"},
    "a11y.test.text": {
        "da": "Ved hver ændring testes siderne automatisk i en rigtig browser: med axe-core "
        "for WCAG 2.1 A og AA, med udfyldning og afsendelse kun med tastaturet og i "
        "telefonbredde. Der er endnu ikke lavet en test med brugere af skærmlæsere.",
        "en": "Every change is tested automatically in a real browser: with axe-core for "
        "WCAG 2.1 A and AA, by filling in and sending the form with the keyboard alone and at "
        "phone width. A test with screen-reader users has not been done yet.",
    },
    "a11y.known.title": {"da": "Kendte problemer", "en": "Known issues"},
    "a11y.known.text": {
        "da": "Vi kender ikke til problemer lige nu. Fortæl os det, hvis du møder et.",
        "en": "We know of no issues right now. Please tell us if you meet one.",
    },
    "a11y.feedback.title": {"da": "Giv os besked", "en": "Tell us"},
    "a11y.feedback.text": {
        "da": "Skriv til os, hvis noget ikke virker for dig, eller hvis du har brug for "
        "oplysningerne i en anden form:",
        "en": "Write to us if something does not work for you, or if you need the information "
        "in another form:",
    },
    "a11y.complaint.title": {"da": "Klage", "en": "Complaints"},
    "a11y.complaint.text": {
        "da": "Får du ikke et tilfredsstillende svar, kan du klage til Digitaliseringsstyrelsen, "
        "som fører tilsyn med tilgængeligheden af offentlige websteder.",
        "en": "If you do not get a satisfactory answer, you can complain to the Danish Agency "
        "for Digital Government, which supervises the accessibility of public websites.",
    },
    "a11y.date": {
        "da": "Erklæringen er udarbejdet i november 2026.",
        "en": "This statement was prepared in November 2026.",
    },
    "footer.privacy": {"da": "Privatlivserklæring", "en": "Privacy notice"},
    # Staff
    "staff.title": {
        "da": "Registrér en henvendelse",
        "en": "Register an inquiry",
    },
    "staff.lead": {
        "da": "Til henvendelser, der kom ind på telefon, e-mail, ved et møde eller fra en "
        "anden afdeling. Henvendelsen får samme behandling som fra webformularen.",
        "en": "For inquiries received by phone, e-mail, at a meeting or from another "
        "department. The inquiry is handled just like one from the web form.",
    },
    "staff.signed_in": {"da": "Logget ind som", "en": "Signed in as"},
    "staff.door": {"da": "Hvordan kom henvendelsen ind?", "en": "How did the inquiry come in?"},
    "staff.forwarded_by": {
        "da": "Hvilken afdeling sendte den videre?",
        "en": "Which department forwarded it?",
    },
    "staff.forwarded_by.hint": {
        "da": "Kun når henvendelsen er videresendt.",
        "en": "Only when the inquiry was forwarded.",
    },
    "staff.forwarded_by.none": {"da": "Vælg afdeling", "en": "Choose department"},
    "staff.privacy.accept": {
        "da": "Henvenderen er orienteret om privatlivserklæringen",
        "en": "The inquirer has been told about the privacy notice",
    },
    "staff.privacy.error": {
        "da": "Bekræft, at henvenderen er orienteret om privatlivserklæringen.",
        "en": "Confirm that the inquirer has been told about the privacy notice.",
    },
    "staff.submit": {"da": "Registrér henvendelse", "en": "Register inquiry"},
    "staff.receipt.title": {
        "da": "Henvendelsen er registreret",
        "en": "The inquiry is registered",
    },
    "staff.receipt.text": {
        "da": "Den er sendt videre til fordeling. Giv henvenderen referencenummeret.",
        "en": "It has been passed on for routing. Give the inquirer the reference number.",
    },
    "staff.receipt.follow_up": {
        "da": "Organisationen har været i kontakt før; henvendelsen er lagt til den "
        "eksisterende kontakt.",
        "en": "The organisation has been in touch before; the inquiry was added to the "
        "existing contact.",
    },
    # The staff form speaks about the inquirer, not to them.
    "staff.form.organisation.name.hint": {
        "da": "Har organisationen kun en idé, så skriv et arbejdsnavn.",
        "en": "If the organisation is only an idea, write a working name.",
    },
    "staff.form.organisation.cvr.hint": {
        "da": "8 cifre. Lad feltet være tomt, hvis organisationen ikke har et CVR-nummer.",
        "en": "8 digits. Leave it empty if the organisation has no CVR number.",
    },
    "staff.form.contact": {"da": "Henvenderen", "en": "The inquirer"},
    "staff.form.contact.name": {"da": "Henvenderens navn", "en": "The inquirer's name"},
    "staff.form.contact.email": {
        "da": "Henvenderens e-mail",
        "en": "The inquirer's e-mail",
    },
    "staff.form.contact.email.hint": {
        "da": "Henvenderen får en kvittering hertil.",
        "en": "The inquirer gets a receipt here.",
    },
    "staff.form.contact.phone": {
        "da": "Henvenderens telefonnummer",
        "en": "The inquirer's phone number",
    },
    "staff.form.contact.language": {
        "da": "Hvilket sprog foretrækker henvenderen?",
        "en": "Which language does the inquirer prefer?",
    },
    "staff.form.needs": {
        "da": "Hvad vil henvenderen have hjælp til?",
        "en": "What does the inquirer want help with?",
    },
    "staff.form.description": {
        "da": "Beskriv kort henvenderens situation og spørgsmål",
        "en": "Describe the inquirer's situation and questions briefly",
    },
    "staff.error.contact_name": {
        "da": "Skriv henvenderens navn.",
        "en": "Enter the inquirer's name.",
    },
    "staff.error.needs": {
        "da": "Vælg mindst ét emne, henvenderen vil have hjælp til.",
        "en": "Choose at least one topic the inquirer wants help with.",
    },
    "staff.error.description": {
        "da": "Beskriv kort, hvad henvenderen vil have hjælp til.",
        "en": "Describe briefly what the inquirer wants help with.",
    },
    "staff.receipt.contact": {"da": "Henvender", "en": "Inquirer"},
    "staff.again": {"da": "Registrér en til", "en": "Register another"},
}

TRANSLATIONS = Translations({**ENUM_TEXTS, **PAGE_TEXTS})
