import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from teams import idnumbers

# A published sample number (GB 11643 worked example): 11010519491231002X.
SAMPLE = "11010519491231002X"


def test_published_sample_is_valid_and_decoded():
    idnumbers.validate_id_number(SAMPLE)
    assert idnumbers.birth_date_of(SAMPLE) == dt.date(1949, 12, 31)
    assert idnumbers.gender_of(SAMPLE) == "F"


def test_lower_case_x_is_accepted_after_normalising():
    idnumbers.validate_id_number(SAMPLE.lower())
    assert idnumbers.normalise(" 11010519491231002x ") == SAMPLE


@pytest.mark.parametrize(
    "value, code",
    [
        ("11010519491231002", "id_shape"),  # 17 characters
        ("110105194912310021X", "id_shape"),  # 19 characters
        ("01010519491231002X", "id_shape"),  # region cannot start with 0
        ("1101051949123100AX", "id_shape"),
        ("110105194913310020", "id_birth_date"),  # month 13
        ("110105194902300020", "id_birth_date"),  # 30 February
        ("110105194912310021", "id_checksum"),  # last character changed
    ],
)
def test_bad_numbers_are_refused_with_the_reason(value, code):
    with pytest.raises(ValidationError) as exc:
        idnumbers.validate_id_number(value)
    assert exc.value.code == code


def test_future_birth_date_is_refused():
    future = dt.date.today() + dt.timedelta(days=400)
    number = idnumbers.make_id_number("110105", future, 1, "M")
    with pytest.raises(ValidationError) as exc:
        idnumbers.validate_id_number(number)
    assert exc.value.code == "id_birth_date"


def test_birth_date_and_gender_must_match():
    idnumbers.validate_matches(SAMPLE, dt.date(1949, 12, 31), "F")
    with pytest.raises(ValidationError) as exc:
        idnumbers.validate_matches(SAMPLE, dt.date(1950, 1, 1), "M")
    assert set(exc.value.error_dict) == {"birth_date", "gender"}


def test_mask_hides_the_birth_date():
    assert idnumbers.mask(SAMPLE) == "110105********002X"
    assert "19491231" not in idnumbers.mask(SAMPLE)


@given(
    born=st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2008, 12, 31)),
    sequence=st.integers(0, 99),
    gender=st.sampled_from(["M", "F"]),
)
def test_built_numbers_validate_and_decode(born, sequence, gender):
    number = idnumbers.make_id_number("320102", born, sequence, gender)
    idnumbers.validate_id_number(number)
    assert idnumbers.birth_date_of(number) == born
    assert idnumbers.gender_of(number) == gender


@given(
    born=st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2008, 12, 31)),
    position=st.integers(0, 16),
    delta=st.integers(1, 9),
)
def test_any_single_digit_typo_is_caught(born, position, delta):
    number = idnumbers.make_id_number("320102", born, 7, "M")
    digit = (int(number[position]) + delta) % 10
    typo = number[:position] + str(digit) + number[position + 1 :]
    with pytest.raises(ValidationError):
        idnumbers.validate_id_number(typo)
