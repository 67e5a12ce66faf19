"""Encryption at rest, shared by every app that keeps personal text: the key ring and per-case data
keys (crypto) and the encrypted text field (fields). Imports no app: the data key rows are named by
label ("cases.CaseKey") and a model points its field at its key holder with `data_key_via`."""
