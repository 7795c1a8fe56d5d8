"""The validators shared by forms, imports and the API (data.md, Persons and conventions)."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from accounts import personal_data
from areas.choices import AreaLevel
from areas.validators import normalise_area_code, validate_area_code, validate_area_parent
from households.choices import Sex
from households.validators import (
    age_on,
    id_birth_date,
    id_sex,
    looks_truncated_by_excel,
    validate_id_number,
    validate_phone,
)


def test_id_ending_in_x_is_valid_and_normalised_to_upper_case():
    # GB 11643's published example: the weighted sum leaves remainder 2, so the check character is X.
    assert validate_id_number("11010519491231002x") == "11010519491231002X"


def test_known_valid_id_gives_birth_date_and_sex():
    assert validate_id_number("440524188001010014") == "440524188001010014"
    assert id_birth_date("440524188001010014") == datetime.date(1880, 1, 1)
    assert id_sex("440524188001010014") == Sex.MALE  # digit 17 is 1: odd
    assert id_sex("11010519491231002X") == Sex.FEMALE  # digit 17 is 2: even


def test_wrong_check_digit_names_the_expected_one():
    with pytest.raises(ValidationError) as error:
        validate_id_number("440524188001010015")
    assert error.value.code == "id_check_digit"
    assert "4" in error.value.messages[0]


def test_impossible_birth_date_2023_02_29_is_rejected():
    # 2023 is not a leap year; the check digit is made right so only the date is wrong.
    first17 = "43130220230229001"
    from households.validators import id_check_digit

    with pytest.raises(ValidationError) as error:
        validate_id_number(first17 + id_check_digit(first17))
    assert error.value.code == "id_birth_date"


def test_birth_date_in_the_future_is_rejected():
    from households.validators import id_check_digit

    first17 = "43130220300101001"
    with pytest.raises(ValidationError) as error:
        validate_id_number(first17 + id_check_digit(first17), today=datetime.date(2026, 11, 29))
    assert error.value.code == "id_birth_future"


@pytest.mark.parametrize("typed", ["4.31302E+17", "4.31302199001E+17", "431302199001011200"])
def test_excel_truncated_id_gets_its_own_message(typed):
    with pytest.raises(ValidationError) as error:
        validate_id_number(typed)
    assert error.value.code == "id_truncated"
    assert "文本" in error.value.messages[0]


def test_a_valid_id_ending_in_zeros_is_not_taken_for_truncated():
    from households.validators import id_check_digit

    first17 = "43130219900101100"
    if id_check_digit(first17) == "0":  # only meaningful if such an ID is valid
        assert not looks_truncated_by_excel(first17 + "0")
    assert not looks_truncated_by_excel("440524188001010014")


@pytest.mark.parametrize("bad", ["12345", "43130219900101123Y", "4313021990010112345"])
def test_malformed_ids_are_rejected(bad):
    with pytest.raises(ValidationError) as error:
        validate_id_number(bad)
    assert error.value.code == "id_format"


def test_age_in_whole_years_and_29_february():
    born = datetime.date(2021, 6, 1)
    assert age_on(born, datetime.date(2026, 6, 1)) == 5
    assert age_on(born, datetime.date(2026, 5, 31)) == 4
    leap = datetime.date(1992, 2, 29)
    assert age_on(leap, datetime.date(2025, 2, 28)) == 32  # common year: birthday is 1 March
    assert age_on(leap, datetime.date(2025, 3, 1)) == 33
    assert age_on(leap, datetime.date(2024, 2, 29)) == 32


@pytest.mark.parametrize("phone", ["13812345678", "0738-8312345", "07388312345"])
def test_phone_accepts_mobiles_and_landlines(phone):
    assert validate_phone(phone) == phone


@pytest.mark.parametrize("phone", ["1381234567", "23812345678", "abc"])
def test_phone_rejects_other_forms(phone):
    with pytest.raises(ValidationError):
        validate_phone(phone)


def test_padded_12_digit_codes_mean_the_township_or_county():
    assert normalise_area_code("431321101000", AreaLevel.TOWNSHIP) == "431321101"
    assert normalise_area_code("431381000000", AreaLevel.COUNTY) == "431381"
    assert normalise_area_code("431321101200", AreaLevel.VILLAGE) == "431321101200"
    assert validate_area_code("431381000000", AreaLevel.COUNTY) == "431381"
    with pytest.raises(ValidationError):
        validate_area_code("4313211", AreaLevel.TOWNSHIP)


def test_area_parent_must_be_one_level_up():
    validate_area_parent(AreaLevel.VILLAGE, AreaLevel.TOWNSHIP)
    validate_area_parent(AreaLevel.CITY, None)
    with pytest.raises(ValidationError):
        validate_area_parent(AreaLevel.VILLAGE, AreaLevel.COUNTY)
    with pytest.raises(ValidationError):
        validate_area_parent(AreaLevel.COUNTY, None)


def test_encryption_round_trip_and_blind_index():
    token = personal_data.encrypt("440524188001010014")
    assert "440524188001010014" not in token
    assert personal_data.decrypt(token) == "440524188001010014"
    assert personal_data.encrypt("440524188001010014") != token  # random nonce
    assert personal_data.blind_index("440524188001010014") == personal_data.blind_index(" 440524188001010014 ")
    assert personal_data.mask_id_number("431302199001011234") == "431302********1234"
    assert personal_data.mask_phone("13812345678") == "138****5678"
