"""The wallet: a customer's coupons and store credit, issued by a rule or a person, once per business fact."""
