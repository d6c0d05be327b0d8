"""The values issue #12 sends to every number field: none of them is a figure anyone means."""

BAD_NUMBERS = ("nan", "inf", "-inf", "1e308", "abc")
