"""Hypothesis strategies shared by the API fuzz tests."""

from hypothesis import strategies as st


def json_values(*, text_size: int, key_size: int, leaves: int) -> st.SearchStrategy:
    """Any JSON value (JSON has no NaN or infinity), nested a little: what a client may send in a field."""
    return st.recursive(
        st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=text_size),
        lambda children: st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=key_size), children, max_size=3),
        max_leaves=leaves,
    )
