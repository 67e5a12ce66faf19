"""Django admin for the takedowns app: nothing registered, on purpose.

A takedown request is case content (which platform was asked to remove what about a survivor).
System administrators see no case content except through audited break-glass (cases/admin.py says
the same for cases), so no admin page reads these rows past the need-to-know rules and without an
audit event.
"""
