"""The pure part of the spreadsheet import (L13): options, encodings, headers, rows, duplicates in a file."""
import codecs

import pytest

from crmkit.errors import Invalid
from lead import imports
from lead.model import Lead, dedupe_keys


def sheet_of(text, encoding="utf-8", mapping=None):
    return imports.read_sheet(text.encode(encoding), mapping)


def test_chinese_headers_and_their_variants_are_recognised():
    sheet = sheet_of("联系人,职务,电子邮件,座机,手机号,公司名称,所属行业,城市,省份,需求,备注\n王芳,经理,w@x.cn,021-1234567,"
                     "13800138000,杭州某某,机械,杭州,浙江,叉车,随便\n")

    assert sheet.columns == ["contact.name", "contact.title", "contact.email", "contact.phone", "contact.mobile",
                             "company.name", "company.industry", "company.city", "company.province",
                             "need.description", None]


def test_the_intakes_flat_names_and_spreadsheet_spellings_are_recognised():
    sheet = sheet_of("Name, E-Mail ,MOBILE,Company Name,ｃｉｔｙ,单位,手机*\nx,y@z.cn,1,c,d,e,f\n")

    assert sheet.columns == ["contact.name", "contact.email", "contact.mobile", "company.name", "company.city",
                             "company.name", "contact.mobile"]


def test_a_mapping_decides_for_the_columns_it_names():
    sheet = sheet_of("客户,地区,电话\nACME,上海,021-62991640\n", mapping={"客户": "company.name", "地区": "company.city",
                                                                     "电话": None})

    assert sheet.columns == ["company.name", "company.city", None]


def test_a_mapping_naming_a_missing_column_or_no_usable_column_is_refused():
    with pytest.raises(Invalid) as missing:
        sheet_of("姓名\n张三\n", mapping={"公司": "company.name"})
    with pytest.raises(Invalid) as unusable:
        sheet_of("foo,bar\n1,2\n")

    assert missing.value.details == {"mapping.公司": "The file has no such column."}
    assert "foo, bar" in unusable.value.details["file"]


def test_options_are_checked_field_by_field():
    with pytest.raises(Invalid) as error:
        imports.check_options({"on_duplicate": "merge", "mapping": {"姓名": "contact.nickname"}})

    assert set(error.value.details) == {"campaign_id", "on_duplicate", "mapping.姓名"}
    assert imports.check_options({"campaign_id": "C1"})["on_duplicate"] == "skip"


@pytest.mark.parametrize("encoding,prefix", [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("gbk", b""),
                                             ("gb18030", b""), ("utf-16", b"")])
def test_utf8_with_or_without_bom_gbk_gb18030_and_utf16_are_detected(encoding, prefix):
    text = "姓名,公司,城市\n张三,上海某某科技有限公司,上海\n"
    sheet = imports.read_sheet(prefix + text.encode(encoding))

    assert sheet.headers == ["姓名", "公司", "城市"]
    assert sheet.rows == [(2, ["张三", "上海某某科技有限公司", "上海"])]
    assert sheet.encoding == {"utf-8": "utf-8", "gbk": "gb18030", "gb18030": "gb18030", "utf-16": "utf-16"}[encoding]


def test_a_file_in_no_known_encoding_or_an_xlsx_is_refused():
    with pytest.raises(Invalid):
        imports.read_sheet(b"\xff\xfe\xfa\x00\x81\x00" * 3 + b"\x80")
    with pytest.raises(Invalid) as xlsx:
        imports.read_sheet(b"PK\x03\x04 zipped sheet")

    assert xlsx.value.details == {"file": "XLSX is not supported."}


def test_rows_keep_their_spreadsheet_numbers_across_blank_lines_tabs_and_quoted_newlines():
    sheet = sheet_of('\n姓名\t需求\n\n张三\t"两行\n需求"\n\t\n李四\t\n')

    assert sheet.header_row == 2
    assert sheet.rows == [(4, ["张三", "两行\n需求"]), (6, ["李四", ""])]


def test_each_bad_value_of_a_row_is_an_error_naming_its_row_and_field():
    columns = ["contact.name", "company.name", "contact.email", "contact.mobile", "company.city"]

    fields, errors = imports.row_fields(7, [" 张三 ", "", "zhang@", "138-0013-8000", "x" * 201], columns)
    _, nameless = imports.row_fields(8, ["", " ", "a@b.cn"], columns)

    assert fields == {"contact": {"name": "张三", "mobile": "138-0013-8000"}, "company": {}, "need": {}}
    assert errors == [
        {"row": 7, "field": "contact.email", "message": "Not a valid e-mail address: 'zhang@'."},
        {"row": 7, "field": "company.city", "message": "Longer than 200 characters."}]
    assert nameless == [{"row": 8, "field": "contact.name", "message": imports.NAME_MESSAGE}]


@pytest.mark.parametrize("phone,ok", [("021-62991640", True), ("+86 138 0013 8000", True), ("(010) 8888 8888 转 12", True),
                                      ("电话待定", False), ("123", False), ("13800138000abc", False)])
def test_phones_must_be_numbers(phone, ok):
    _, errors = imports.row_fields(2, ["张三", phone], ["contact.name", "contact.phone"])

    assert (errors == []) is ok


def test_rows_of_a_file_duplicate_earlier_ones_by_email_phone_or_company_and_name():
    def keys(**contact):
        company = contact.pop("company", "ACME")
        return dedupe_keys(Lead.create(id="x", now=None, owner_id="u", contact=contact, company={"name": company}))

    seen = imports.SeenKeys()
    seen.add(keys(name="张三", email="Zhang@X.cn", mobile="13800138000"), "L1")

    assert seen.match(keys(name="李四", email="zhang@x.cn")) == ["L1"]
    assert seen.match(keys(name="李四", phone="+86 138 0013 8000")) == ["L1"]
    assert seen.match(keys(name="张三", company="acme")) == ["L1"]
    assert seen.match(keys(name="李四", company="Other")) == []
