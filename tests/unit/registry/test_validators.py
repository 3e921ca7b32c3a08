"""Identifier checks against known vectors: each way a number can be wrong gets its own message."""

from __future__ import annotations

import pytest

from app.errors import DomainError
from app.registry.validators import (
    check_id_number,
    check_mobile,
    check_ssc_number,
    check_uscc,
    mask_id_number,
    mask_mobile,
    mask_name,
    region_name,
)

VALID_ID_NUMBERS = ["11010519491231002X", "440524188001010014", "440402198604121210", "440403197901235697"]
VALID_USCCS = ["91110000600037341L", "91440400MA4GNPPJ74", "91440400MA47K3RD68"]


@pytest.mark.parametrize("number", VALID_ID_NUMBERS)
def test_valid_id_numbers(number):
    assert check_id_number(number) == number
    assert check_id_number(" " + number.lower() + " ") == number


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("", "请输入身份证号码"),
        ("11010519491231002", "应为18位，您输入了17位"),
        ("1101051949123100211", "应为18位，您输入了19位"),
        ("1101051949123100XX", "前17位应为数字"),
        ("11010519491231002Y", "前17位应为数字"),
        ("000000194912310021", "地区代码000000不存在"),
        ("110105194902300021", "出生日期（第7至14位）不是有效日期"),
        ("110105194912310021", "校验位（最后一位）不正确"),
    ],
)
def test_invalid_id_numbers(number, fragment):
    with pytest.raises(DomainError) as info:
        check_id_number(number)
    assert fragment in info.value.errors["id_number"]


@pytest.mark.parametrize("code", VALID_USCCS)
def test_valid_credit_codes(code):
    assert check_uscc(code.lower()) == code


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("", "请输入统一社会信用代码"),
        ("9111000060003734", "应为18位，您输入了16位"),
        ("91110000600037341M", "校验位（最后一位）不正确"),
        ("9111000060003734IL", "只能包含数字和除I、O、S、V、Z以外的大写字母"),
    ],
)
def test_invalid_credit_codes(code, fragment):
    with pytest.raises(DomainError) as info:
        check_uscc(code)
    assert fragment in info.value.errors["uscc"]


def test_credit_code_with_unknown_region():
    from stdnum.cn import uscc

    body = "91999999MA4GNPPJ7"
    code = body + uscc.calc_check_digit(body + "0")
    with pytest.raises(DomainError) as info:
        check_uscc(code)
    assert "地区代码999999不存在" in info.value.errors["uscc"]


def test_social_security_card_and_mobile_numbers():
    assert check_ssc_number("p76848884") == "P76848884"
    for bad in ("", "76848884", "PP6848884", "P768488841"):
        with pytest.raises(DomainError):
            check_ssc_number(bad)
    assert check_mobile("138 0000 0001") == "13800000001"
    for bad in ("12800000001", "1380000000", "138000000011", "abc"):
        with pytest.raises(DomainError):
            check_mobile(bad)


def test_masks_and_region_names():
    assert mask_id_number("440402198604121210") == "440402********1210"
    assert mask_name("陈志明") == "陈**"
    assert mask_mobile("13800000001") == "138****0001"
    assert region_name("440402") == "广东省香洲区"
    assert region_name("999999") == ""
