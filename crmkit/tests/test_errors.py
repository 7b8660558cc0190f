"""Errors that cross the RPC boundary, and flat field paths for 422 details (API.md "Errors", P3)."""
import pickle

import pytest
from marshmallow import Schema, fields, validate

from crmkit import errors
from crmkit.errors import Conflict, Forbidden, Invalid, NotFound, flatten_messages, load_or_invalid


def test_nested_marshmallow_messages_become_dotted_field_paths_P3():
    messages = {"contact": {"email": ["Not a valid email address."]}, "name": ["Missing data."]}

    assert flatten_messages(messages) == {"contact.email": "Not a valid email address.",
                                          "name": "Missing data."}


def test_several_messages_for_one_field_are_joined_into_one_sentence():
    assert flatten_messages({"name": ["Too long.", "Not allowed."]}) == {"name": "Too long. Not allowed."}


def test_list_items_are_addressed_by_index():
    messages = {0: {"user_id": ["Missing data for required field."]},
                2: {"permissions": {"need": ["Must be one of: read, edit."]}}}

    assert flatten_messages(messages) == {
        "0.user_id": "Missing data for required field.",
        "2.permissions.need": "Must be one of: read, edit."}


def test_a_list_of_nested_errors_is_addressed_by_position():
    assert flatten_messages({"tags": [{"x": ["bad"]}, {"y": ["worse"]}]}) == {"tags.0.x": "bad",
                                                                           "tags.1.y": "worse"}


def test_messages_that_belong_to_no_field_go_under_schema():
    assert flatten_messages(["Invalid input type."]) == {"_schema": "Invalid input type."}
    assert flatten_messages("Broken.") == {"_schema": "Broken."}


def test_a_nested_object_of_the_wrong_type_is_reported_on_the_field_itself():
    messages = {"contact": {"_schema": ["Invalid input type."]}, 1: {"_schema": ["Invalid input type."]}}

    assert flatten_messages(messages) == {"contact": "Invalid input type.", "1": "Invalid input type."}


class _Contact(Schema):
    email = fields.Email()


class _Lead(Schema):
    name = fields.String(required=True, validate=validate.Length(max=5))
    contact = fields.Nested(_Contact)
    tags = fields.List(fields.String(validate=validate.Length(min=1)))


def test_load_or_invalid_returns_the_loaded_data():
    assert load_or_invalid(_Lead(), {"name": "Ann", "tags": ["a"]}) == {"name": "Ann", "tags": ["a"]}


def test_load_or_invalid_turns_a_validation_error_into_invalid_with_flat_paths_P3():
    with pytest.raises(Invalid) as caught:
        load_or_invalid(_Lead(), {"name": "far too long", "contact": {"email": "nope"}, "tags": ["ok", ""]})

    details = caught.value.details
    assert set(details) == {"name", "contact.email", "tags.1"}
    assert "email" in details["contact.email"].lower()
    assert caught.value.code == "validation_error"


def test_a_missing_payload_is_loaded_as_an_empty_object():
    with pytest.raises(Invalid) as caught:
        load_or_invalid(_Lead(), None)

    assert list(caught.value.details) == ["name"]


def test_a_payload_of_the_wrong_type_is_invalid_not_a_crash():
    with pytest.raises(Invalid) as caught:
        load_or_invalid(_Lead(), ["not", "an", "object"])

    assert "_schema" in caught.value.details


@pytest.mark.parametrize("cls, code", [(NotFound, "not_found"), (Invalid, "validation_error"),
                                       (Conflict, "conflict"), (Forbidden, "forbidden"),
                                       (errors.BadRequest, "bad_request")])
def test_each_error_has_the_machine_code_the_gateway_maps_P3(cls, code):
    assert cls.code == code
    assert cls in errors.EXPECTED


def test_an_error_rebuilds_from_its_args_as_nameko_does_on_the_far_side():
    error = Invalid("The request has invalid fields.", {"contact.email": "Not a valid email address."})

    rebuilt = type(error)(*error.args)
    unpickled = pickle.loads(pickle.dumps(error))

    for copy in (rebuilt, unpickled):
        assert str(copy) == "The request has invalid fields."
        assert copy.details == {"contact.email": "Not a valid email address."}


def test_an_error_without_details_has_an_empty_details_dict():
    assert NotFound("gone").details == {}
