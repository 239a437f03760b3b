"""Pure: the facts kept per inquiry, case, referral and delivery, and the figures on them."""
