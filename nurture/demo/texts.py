"""Message texts for the demo's everyday traffic.

Each topic is (subject, opening message, answer, closing note). Placeholders:
{first} (the other person's first name), {project}, {org}, {month}.
Everyday traffic never leaves a question open and never promises a date:
the scenarios that must produce a nudge are written out in `story`.
"""

from __future__ import annotations

Topic = tuple[str, str, str, str]

PROJECTS = {
    "northwind.example": "the route-planning portal",
    "haldenbank.example": "the payments onboarding redesign",
    "kessler.example": "the service portal migration",
    "lumenstudios.example": "the booking app",
    "orchardfoods.example": "the supplier dashboard",
    "fernhill.example": "the resident services site",
    "atlasfreight.example": "the shipment tracking page",
    "oldmill.example": "the licensing portal",
    "quarrylabs.example": "the lab scheduling tool",
    "bluewater.example": "the analytics onboarding",
}

# The client asks Alex; Alex answers; the client closes.
CLIENT_ASKS: tuple[Topic, ...] = (
    (
        "Status of {project}",
        "Hi Alex,\n\nCould you give me a quick update on where {project} stands? Our "
        "leadership team asked me for a summary this week.\n\nThanks,\n{me}",
        "Hi {first},\n\nOf course. Discovery is done, the first prototype is with your team "
        "for feedback, and the only open item is access to the reporting database, which Sam "
        "is sorting out with your IT colleagues.\n\nBest,\nAlex",
        "Perfect, that's exactly what I needed. Thanks!\n\n{me}",
    ),
    (
        "Workshop agenda",
        "Hi Alex,\n\nDo you have a draft agenda for the workshop yet? I'd like to share it "
        "with the team so they can prepare.\n\nBest,\n{me}",
        "Hi {first},\n\nYes, here it is: a short recap of the research, two hours on the "
        "journey map, lunch, then prioritising the backlog together. Nothing to prepare "
        "beyond bringing the people who handle customer calls.\n\nAlex",
        "Great, sharing it now.\n\n{me}",
    ),
    (
        "Invoice for {month}",
        "Hello Alex,\n\nCan you confirm whether the {month} invoice includes the two extra "
        "workshop days? Finance is asking.\n\nKind regards,\n{me}",
        "Hi {first},\n\nIt does: the two workshop days are lines 3 and 4, at the rate in "
        "our framework agreement.\n\nThanks,\nAlex",
        "Thank you, that clears it up.\n\n{me}",
    ),
    (
        "Moving our check-in",
        "Hi Alex,\n\nWould it be possible to move our check-in to Thursday afternoon? "
        "Something came up on my side.\n\nThanks,\n{me}",
        "Hi {first},\n\nNo problem at all, Thursday at 2pm works for me. I've moved the "
        "invite.\n\nAlex",
        "Thanks!\n\n{me}",
    ),
    (
        "Question about the analytics setup",
        "Hi Alex,\n\nWhat would you recommend for tracking drop-off in {project}? We have two "
        "tools in place and I'm not sure which one to keep.\n\nBest,\n{me}",
        "Hi {first},\n\nKeep the one your product team already uses day to day; the "
        "second adds cost without new insight. The funnel report fits into the next "
        "sprint.\n\nBest,\nAlex",
        "Makes sense, let's do that.\n\n{me}",
    ),
    (
        "Accessibility review",
        "Hi Alex,\n\nDid the accessibility review cover the mobile screens as well, or only "
        "desktop?\n\nThanks,\n{me}",
        "Hi {first},\n\nBoth: mobile and desktop were reviewed against WCAG 2.2 AA. The "
        "mobile findings are in section 4 of the report.\n\nAlex",
        "Found it, thanks.\n\n{me}",
    ),
    (
        "Extra user interviews",
        "Hi Alex,\n\nCould we add three more user interviews with our warehouse staff? "
        "They have strong opinions about {project}.\n\nCheers,\n{me}",
        "Hi {first},\n\nYes, that fits in the current budget. Chloe has already picked "
        "three slots next week and will send the invites.\n\nAlex",
        "Brilliant, thank you.\n\n{me}",
    ),
    (
        "Access for the new team member",
        "Hi Alex,\n\nCan you give our new analyst access to the shared project board?\n\n"
        "Thanks,\n{me}",
        "Hi {first},\n\nDone, the invitation went out a minute ago.\n\nAlex",
        "Got it, thanks!\n\n{me}",
    ),
    (
        "Hosting costs",
        "Hi Alex,\n\nQuick one: do you have an estimate of the monthly hosting costs once "
        "{project} is live?\n\nBest,\n{me}",
        "Hi {first},\n\nAbout 400 GBP a month at today's traffic, rising to roughly 650 at "
        "the volumes you forecast for next year. The breakdown is in the architecture "
        "note.\n\nBest,\nAlex",
        "Very helpful, thanks.\n\n{me}",
    ),
    (
        "Security questionnaire",
        "Hello Alex,\n\nOur security team sent over their supplier questionnaire. Would you "
        "be able to fill it in?\n\nRegards,\n{me}",
        "Hi {first},\n\nAll done, the completed questionnaire is in the shared folder, "
        "with our ISO 27001 certificate next to it.\n\nAlex",
        "Thanks, passing it on.\n\n{me}",
    ),
)

# Alex asks the client; the client answers; Alex closes.
ALEX_ASKS: tuple[Topic, ...] = (
    (
        "Sign-off on the designs",
        "Hi {first},\n\nCould you confirm that the latest designs for {project} are signed "
        "off, so the team can start building?\n\nBest,\nAlex",
        "Hi Alex,\n\nYes, signed off. Go ahead.\n\nBest,\n{me}",
        "Great, thanks {first}.\n\nAlex",
    ),
    (
        "Test accounts",
        "Hi {first},\n\nWould you be able to set up two test accounts for us on the staging "
        "system?\n\nThanks,\nAlex",
        "Hi Alex,\n\nDone, the details are in the password manager share.\n\n{me}",
        "Perfect, thank you.\n\nAlex",
    ),
    (
        "Availability for user testing",
        "Hi {first},\n\nWhich days next week suit your team for the user testing sessions?"
        "\n\nBest,\nAlex",
        "Hi Alex,\n\nTuesday and Wednesday mornings work best for us.\n\n{me}",
        "Booked both mornings, thanks.\n\nAlex",
    ),
    (
        "Data export",
        "Hi {first},\n\nCan you share last quarter's export from the CRM? We need it for "
        "the baseline figures.\n\nThanks,\nAlex",
        "Hi Alex,\n\nAttached to the shared folder this morning.\n\nBest,\n{me}",
        "Got it, thanks.\n\nAlex",
    ),
    (
        "Who should attend the review",
        "Hi {first},\n\nWho from your side should attend the monthly review? I'd like to "
        "send the invitations today.\n\nBest,\nAlex",
        "Hi Alex,\n\nIt will be me and our finance lead.\n\n{me}",
        "Done, invitations sent.\n\nAlex",
    ),
    (
        "Feedback on the report",
        "Hi {first},\n\nDid you get a chance to read the research report? Any feedback "
        "before we present it to the wider team?\n\nBest,\nAlex",
        "Hi Alex,\n\nRead it over the weekend. Really strong work; no changes from me." "\n\n{me}",
        "Thanks, glad it landed well.\n\nAlex",
    ),
)

# Either side shares news that needs no answer; the other acknowledges.
UPDATES: tuple[Topic, ...] = (
    (
        "Weekly update: {project}",
        "Hi {first},\n\nA short update on {project}: the new search filters are live on "
        "staging, the performance work cut page load by a third, and the content team "
        "finished the help pages.\n\nBest,\nAlex",
        "Thanks Alex, good progress.\n\n{me}",
        "",
    ),
    (
        "Slides from today",
        "Hi {first},\n\nHere are the slides from today's session, as discussed.\n\n" "Best,\nAlex",
        "Thanks, received.\n\n{me}",
        "",
    ),
    (
        "Article you might like",
        "Hi {first},\n\nI came across this piece on onboarding flows in logistics and "
        "thought of {project}: https://blog.example/onboarding-that-works\n\nAlex",
        "Great read, thanks for thinking of us!\n\n{me}",
        "",
    ),
)

INBOUND_UPDATES: tuple[Topic, ...] = (
    (
        "New volumes for {month}",
        "Hi Alex,\n\nFYI, our volumes for {month} came in 12% above forecast, which is good "
        "news for the business case.\n\nBest,\n{me}",
        "Hi {first},\n\nThat's great news, thanks for sharing.\n\nAlex",
        "",
    ),
    (
        "Team change",
        "Hi Alex,\n\nJust to let you know that our new operations analyst starts on Monday "
        "and will join the project calls.\n\nBest,\n{me}",
        "Thanks for the heads-up, {first}.\n\nAlex",
        "",
    ),
    (
        "Good feedback from the board",
        "Hi Alex,\n\nThe board saw the prototype yesterday and were impressed. Thank you "
        "and the team for the effort.\n\n{me}",
        "That's lovely to hear, thank you {first}. I'll pass it on to the team.\n\nAlex",
        "",
    ),
)

COLLEAGUE_ASKS: tuple[Topic, ...] = (
    (
        "Expenses for {month}",
        "Hi Alex,\n\nCan you approve the {month} expenses in the portal when you have a "
        "minute?\n\nThanks,\n{me}",
        "Done, all approved.\n\nAlex",
        "",
    ),
    (
        "Cover for the client call",
        "Alex,\n\nCould you cover the client call on Thursday? I'm at the dentist.\n\n{me}",
        "Sure, I've got it.\n\nAlex",
        "Thanks!\n\n{me}",
    ),
    (
        "Which template for the proposal",
        "Hi Alex,\n\nShould I use the new proposal template or the old one for the public "
        "sector bid?\n\n{me}",
        "The new one, it has the social value section they ask for.\n\nAlex",
        "",
    ),
    (
        "Timesheets",
        "Hi Alex,\n\nCould you submit last week's timesheet? Payroll closes today.\n\n{me}",
        "Submitted, sorry for the delay.\n\nAlex",
        "",
    ),
    (
        "Review of my draft",
        "Hi Alex,\n\nWould you have time to review my draft of the research findings?\n\n" "{me}",
        "I've read it and it's really good. I left two small comments in the doc.\n\nAlex",
        "Thanks, fixed both.\n\n{me}",
    ),
    (
        "Laptop refresh",
        "Hi Alex,\n\nDo you want the 14-inch or the 16-inch model in the laptop refresh?"
        "\n\n{me}",
        "The 14-inch one for me.\n\nAlex",
        "",
    ),
)

ALEX_ASKS_COLLEAGUE: tuple[Topic, ...] = (
    (
        "Capacity next month",
        "Hi {first},\n\nHow much capacity do you have next month? I'm planning the "
        "staffing for a new client.\n\nAlex",
        "About three days a week from the 10th.\n\n{me}",
        "Thanks, that works.\n\nAlex",
    ),
    (
        "Can you join the pitch",
        "Hi {first},\n\nCould you join the pitch on Wednesday? Your case study is the one "
        "they want to hear about.\n\nAlex",
        "Happy to, I've blocked the time.\n\n{me}",
        "",
    ),
    (
        "Staging deploy",
        "{first}, is the staging deploy done? I want to show the client this afternoon.\n\n" "Alex",
        "Yes, deployed ten minutes ago.\n\n{me}",
        "",
    ),
)

PERSONAL: tuple[Topic, ...] = (
    (
        "Coffee soon?",
        "Hi Alex,\n\nIt's been a while. Are you free for a coffee one of these weeks?" "\n\n{me}",
        "Hi {first},\n\nYes, gladly. I've sent you an invite for Thursday at 10 at the usual "
        "place.\n\nAlex",
        "See you then!\n\n{me}",
    ),
    (
        "An introduction",
        "Hi {first},\n\nWould you be open to an introduction to a founder I've been "
        "advising? I think you two would get on.\n\nAlex",
        "Hi Alex,\n\nAbsolutely, please do.\n\n{me}",
        "Done, you're both copied on the intro.\n\nAlex",
    ),
    (
        "Your talk",
        "Hi Alex,\n\nI saw your talk is online. Can I share it with my network?\n\n{me}",
        "Hi {first},\n\nOf course, thank you!\n\nAlex",
        "",
    ),
    (
        "Catching up",
        "Hi {first},\n\nHow did the new role turn out? Curious to hear how it's going.\n\n" "Alex",
        "Hi Alex,\n\nBusy but good, thanks for asking. The team is great.\n\n{me}",
        "Really glad to hear it.\n\nAlex",
    ),
    (
        "Book recommendation",
        "Hi Alex,\n\nWhat was the book on pricing you mentioned last time?\n\n{me}",
        "Hi {first},\n\nIt's 'Pricing with Confidence'. Chapter 6 is the one.\n\nAlex",
        "Ordered, thanks!\n\n{me}",
    ),
)

VENDOR_ASKS: tuple[Topic, ...] = (
    (
        "Receipts for {month}",
        "Dear Alex,\n\nCould you upload the receipts for {month} so we can close the books?"
        "\n\nKind regards,\n{me}",
        "Hi {first},\n\nUploaded this morning.\n\nBest,\nAlex",
        "Thank you, all received.\n\n{me}",
    ),
    (
        "VAT return",
        "Dear Alex,\n\nThe VAT return is ready for your approval. Can you approve it in the "
        "portal?\n\nKind regards,\n{me}",
        "Approved, thanks {first}.\n\nAlex",
        "",
    ),
)
