"""Who is calling and what they did: the principal, its checks and the audit trail. Every domain may use it."""
