"""What staff write on the demo's cases (in English): outcomes by theme when they close a
case, why some cases needed no action, a closing sentence, and the notes they add while
working one. Used by demo.cases.
"""

from __future__ import annotations

# What account managers and support agents write when they close a case. Placeholders:
# contact (first name), amount (a credit note in the customer's currency), weekday, n, weeks,
# month (of the answer), earlier (a date before the case), done (the closing day), later.
OUTCOMES = {
    "delivery": (
        "Called {contact}. Two of their last orders were split between warehouses, which "
        "caused the delays. Re-planned their standing order to ship complete on {weekday}s; "
        "the first delivery on the new plan was on time.",
        "Delivery re-planned: {contact}'s orders now go on the {weekday} route with a fixed "
        "time window, and logistics calls ahead if a truck is late.",
        "Called {contact} and apologised for the late deliveries (carrier capacity in "
        "{month}). Moved them to our second carrier and sent a credit note of {amount} for "
        "the express freight they paid.",
        "Met {contact} on site. Agreed on a buffer stock of their {n} fastest-moving items, "
        "so a late inbound delivery no longer stops their production.",
    ),
    "price": (
        "Called {contact} and went through the price increase (raw materials, {n} % on "
        "average). Agreed to keep the old prices on their top items until the end of the "
        "quarter.",
        "Explained the new price list to {contact} and moved them to a yearly volume "
        "agreement, which brings their net prices back to last year's level.",
        "Sent {contact} a price comparison for their 20 most-bought items and offered a {n} % "
        "volume discount from the next order; accepted.",
        "Apologised that the increase came without notice. Price changes are now announced "
        "60 days ahead to customers of their size; {contact} is on the list.",
    ),
    "quality": (
        "Apology + credit note of {amount} for the damaged batch. The quality team traced it "
        "to packaging at the supplier; {contact} got the inspection report.",
        "Replaced the faulty goods free of charge and sent the batch for analysis. Called "
        "{contact} with the result on {done}: a supplier error, now fixed.",
        "Called {contact} and agreed on a fix: incoming inspection of their items for the "
        "next three months, with a short report after each delivery.",
    ),
    "service": (
        "Called {contact} and apologised: their ticket had been closed by mistake. Reopened "
        "and solved it the same day, then went through the other open points together.",
        "Agreed with {contact} on one named support contact and a weekly call until the open "
        "issues are solved. All {n} open points closed by {done}.",
        "{contact} was fed up with waiting times on the phone line. Gave them the direct "
        "number of the account team and closed their two open tickets.",
    ),
    "invoicing": (
        "Apology + credit note of {amount} for the wrong invoice. Finance corrected the price "
        "agreement in the ERP so it does not happen again.",
        "Called {contact}: invoices went to their old cost centre. Updated the invoice "
        "address and PO reference and re-issued {n} invoices.",
        "Went through the unclear invoices with {contact}. Freight and surcharges are shown "
        "on separate lines from the next invoice on.",
    ),
    "product_range": (
        "Called {contact}: they miss two sizes we stopped stocking. Found an equivalent item "
        "and set up a special order with {weeks} weeks' lead time.",
        "Sent {contact} the new catalogue pages and held a product meeting on {weekday} about "
        "alternatives to the discontinued items.",
        "Put the items {contact} asked for into the range review; they get a trial batch at "
        "the old price.",
    ),
    "staff": (
        "Introduced {contact} to their new account manager in a joint call and handed over "
        "the notes on their setup. One contact person from now on.",
        "Apologised for the changes in the account team. Their setup and agreements are now "
        "written down in the CRM, so whoever picks up the phone knows them.",
        "Called {contact} and agreed on a quarterly meeting with the same two people on our side.",
    ),
    "communication": (
        "Called {contact} and agreed on a fix: order confirmations with the expected "
        "delivery date, and a phone call when a date moves.",
        "Set up shipping notifications for {contact}'s team and a monthly status e-mail on "
        "their open orders.",
        "Apologised for the silence on their last order. {contact} now has a direct line to "
        "internal sales and gets an update every {weekday}.",
    ),
    "web_shop": (
        "Walked {contact} through the web shop on a screen share: quick order by item number "
        "and saved order lists. Their login problem went to IT and was fixed on {done}.",
        "Logged the {n} web shop problems {contact} described with the e-commerce team; the "
        "checkout error is fixed, the rest is planned for the next release.",
        "Set up their recurring orders as saved baskets in the web shop and sent {contact} a "
        "short guide.",
    ),
    "returns_and_claims": (
        "Apology + credit note of {amount}. The claim had been stuck for {weeks} weeks; "
        "approved it the same day and collected the goods at our cost.",
        "Called {contact} and settled the open claim: replacement shipped, plus a credit note "
        "of {amount} for the extra work on their side.",
        "Made returns simpler for {contact}: photos by e-mail are enough from now on, no form. "
        "The open claim closed with a credit note of {amount}.",
    ),
    None: (  # no comment, or one that names no theme: what the call brought up
        "Called {contact}. No single issue behind the score, rather a busy quarter with slow "
        "answers from us. Agreed on a check-in call every month until the next survey.",
        "Called {contact} and listened: the score was about their last two orders. "
        "Apologised, checked both with logistics and sent {contact} a summary of what went "
        "wrong.",
        "Met {contact} at their office, went through their {n} open points and agreed who "
        "does what by when; sent the list the same day.",
        "Called {contact}, unhappy with how their last complaint was handled. Apologised, "
        "closed it properly and sent a credit note of {amount}.",
        "Spoke to {contact}: the answer was about our response times. Agreed on a fix: an "
        "answer within one working day, with the account manager copied on every ticket.",
    ),
}
PROMOTER_OUTCOMES = (
    "Called {contact} to say thanks. Happy to be a reference: added to the reference list, "
    "up to two calls a quarter.",
    "Thanked {contact} by phone. They agreed to a short customer story for the website; "
    "marketing contacts them in {weeks} weeks.",
    "Thank-you call with {contact}. Reference declined (company policy), but they will leave "
    "a review on Google.",
    "Called {contact} to thank them. Reference declined for now, busy season; ask again "
    "after {later}.",
    "Thanked {contact} and asked for a reference: yes, for customers in their own industry. "
    "Noted in the CRM.",
    "Sent a thank-you note and called {contact}. They mentioned a new site opening in "
    "spring, so created a sales opportunity.",
    "Called {contact}: reference obtained, and they want to see the new range. Samples sent "
    "on {done}.",
    "Thanked {contact} by phone. No references (they give none to any supplier), but happy "
    "to join the customer panel.",
)
NO_ACTION_REASONS = (
    "Already handled: the same issue is in the complaint logistics closed on {earlier}.",
    "No answer from {contact} after three calls and two e-mails over two weeks; closing. "
    "Will raise it at the next visit.",
    "{contact} asked us not to follow up on the survey: the problem was solved on their side.",
    "Duplicate: the account team handled the same complaint on {earlier}.",
    "{contact} has left the company; the new purchaser has our details and no open issues.",
    "Score given by mistake, as {contact} confirmed on the phone (they meant a 9). Nothing to fix.",
    "The comment was about another supplier's delivery (confirmed with {contact}). Nothing "
    "to do on our side.",
)
PROMOTER_NO_ACTION = (
    "Already a reference customer since last year; thanked by e-mail, nothing more to ask.",
    "{contact} is on leave until {later}; thanked by e-mail instead of a call.",
    "Thanked in person at the customer meeting on {earlier}, before the case came in.",
)
CLOSERS = (
    "Will check in again after the next delivery.",
    "{contact} was satisfied with the solution.",
    "Noted in the CRM for the next account review.",
    "Follow-up call booked for {later}.",
    "{contact} thanked us for calling so quickly.",
    "Shared with the team at the Monday meeting.",
)
NOTES = {
    "delivery": (
        "Asked logistics for tracking on the last {n} shipments.",
        "{n} of their last 10 orders left the warehouse late.",
    ),
    "price": ("Pulled their price history for the last 12 months before calling.",),
    "quality": ("Asked {contact} for photos and batch numbers of the faulty goods.",),
    "service": ("Went through their tickets with support: {n} still open.",),
    "invoicing": ("Asked finance to check the last {n} invoices against the price agreement.",),
    "product_range": ("Checked with purchasing which alternatives we have in stock.",),
    "staff": ("The CRM shows three different contact persons on this account in a year.",),
    "communication": ("Checked the order log: no confirmation e-mail for the last {n} orders.",),
    "web_shop": ("Reproduced the web shop problem; ticket opened with the e-commerce team.",),
    "returns_and_claims": ("Found the claim: waiting for approval since {earlier}.",),
    None: (
        "Left a voicemail for {contact}, will try again tomorrow.",
        "Sent {contact} an e-mail asking for a good time to call.",
        "Read through the last three months of orders and tickets before calling.",
        "Call booked with {contact} on {weekday}.",
        "{contact} is travelling this week; call booked for {weekday}.",
        "Talked to {contact} briefly; details follow by e-mail.",
    ),
    "promoter": (
        "Sent a thank-you e-mail; calling {contact} on {weekday}.",
        "Checked with marketing what they need for a customer story.",
        "Left a voicemail for {contact}, will try again tomorrow.",
    ),
}
# After the customer said "no, not solved" to the follow-up and the case was worked again.
REOPENED_OUTCOMES = (
    "Called {contact} after the follow-up: the first fix had not held. Went through it again "
    "with the team and confirmed the new arrangement in writing.",
    "{contact} said the problem came back with the next order. Escalated inside, fixed at the "
    "source this time, and credited {amount}.",
    "Visited {contact} on {weekday}: the solution had only covered part of it. Agreed on the "
    "rest, with a check-in call in {weeks} weeks.",
    "Spoke to {contact} again: the answer was about a second issue we had missed. Handled "
    "that one too and sent a summary.",
)
