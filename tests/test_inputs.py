import pytest

from aurinko_auth import inputs


@pytest.mark.parametrize(
    "value", ["²", "١٢", "٣", "1²", "+1", "-1", " 1", "1 ", "1.0", "0x1", "", None, 7, "1_0"]
)
def test_decimal_refuses_anything_but_ascii_digits(value):
    assert inputs.decimal(value) is None


def test_decimal_and_ids_in_range():
    assert inputs.decimal("0") == 0 and inputs.decimal("00042") == 42
    assert inputs.decimal("65535", minimum=1, maximum=65535) == 65535
    assert inputs.decimal("65536", minimum=1, maximum=65535) is None
    assert inputs.object_id("0") is None and inputs.object_id("9223372036854775807") == 2**63 - 1
    assert inputs.object_id("9223372036854775808") is None
    assert inputs.object_id("9" * 40) is None


def test_has_nul():
    assert inputs.has_nul("a", "b\x00c") and not inputs.has_nul("a", None, 3)


def test_capped_counts():
    assert inputs.capped("7", 200) == 7 and inputs.capped("9" * 60, 200) == 200
    for bad in ("²", "١", "-1", "", " 1", None, "9" * 1001):
        assert inputs.capped(bad, 200) is None
