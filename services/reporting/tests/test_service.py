"""The reporting service's Nameko entrypoints (no broker): thin translators over the handlers."""
import pytest
from nameko.testing.services import worker_factory

from crmkit import envelope
from crmkit.errors import NotFound
from reporting.service import ReportingService


@pytest.fixture
def service(uow):
    return worker_factory(ReportingService, storage=uow)


def test_events_received_by_the_entrypoints_show_in_the_report_R2(service):
    service.on_campaign_event([envelope.new_event("campaign.created", {"id": "C1", "budget": "300.00"})])
    created = envelope.new_event("lead.created", {"id": "L1", "campaign_id": "C1", "source": "web_form"})
    other = envelope.new_event("lead.created", {"id": "L2", "campaign_id": "C1", "source": "import"})
    service.on_lead_event([created, created, other])  # lead events arrive in batches
    service.on_lead_event([created])

    report = service.get_campaign_report("C1")

    assert report["leads"]["total"] == 2
    assert report["leads"]["by_source"] == {"web_form": 1, "import": 1}
    assert report["cost"]["budget"] == "300.00"


def test_a_report_of_an_unknown_campaign_is_not_found(service):
    with pytest.raises(NotFound) as caught:
        service.get_campaign_report("C404")

    assert caught.value.details == {"campaign_id": "C404"}
