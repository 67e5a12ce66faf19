"""Django admin for the handoffs app: nothing registered, on purpose.

A handoff is case content (who sent what about a survivor, to whom, and why). System administrators
see no case content except through audited break-glass (cases/admin.py says the same for cases), so
no admin page reads these rows past the need-to-know rules and without an audit event.
"""
