"""The controlled lists a reprisal incident is described with (rule P3).

Every descriptive field of an incident is a code from one of these lists, never free
text: a server field that takes prose is where names and stories end up, and those
belong in an encrypted note item on the case. The lists follow what the UN
Secretary-General's annual report on reprisals and civil-society trackers record
(docs/follow-ups.md has them in words). Nothing here imports the server, so the
``intake`` command checks codes against the same lists before sending anything.
"""

from __future__ import annotations

from enum import StrEnum


class UnBody(StrEnum):
    """The UN body or mechanism the person engaged with."""

    special_procedures = "special_procedures"
    treaty_body = "treaty_body"
    human_rights_council = "human_rights_council"
    upr = "upr"
    ohchr = "ohchr"
    secretary_general = "secretary_general"
    other = "other"


class Engagement(StrEnum):
    """What the person did with that body."""

    submitted_information = "submitted_information"
    testified = "testified"
    attended_session = "attended_session"
    met_mission = "met_mission"
    cooperated_with_visit = "cooperated_with_visit"
    other = "other"


class Trigger(StrEnum):
    """What, as far as is known, set the reprisal off."""

    un_contact_discovered = "un_contact_discovered"  # the authorities learned of it
    travel_to_un = "travel_to_un"  # travel to or from a UN session or meeting
    meeting_observed = "meeting_observed"  # a meeting with the mission seen or filmed
    un_publication = "un_publication"  # a UN communication, report or statement
    public_statement = "public_statement"  # the person spoke about the engagement
    relative_engaged = "relative_engaged"  # a relative or associate engaged with the UN
    unknown = "unknown"
    other = "other"


class IncidentType(StrEnum):
    """What was done to the person (more than one may apply)."""

    detention = "detention"
    # Includes "residential surveillance at a designated location".
    enforced_disappearance = "enforced_disappearance"
    travel_ban_or_passport_confiscation = "travel_ban_or_passport_confiscation"
    surveillance = "surveillance"
    threats_or_harassment_of_family = "threats_or_harassment_of_family"
    interrogation = "interrogation"
    raid_or_seizure = "raid_or_seizure"
    smear_campaign = "smear_campaign"
    judicial_harassment = "judicial_harassment"
    loss_of_work = "loss_of_work"
    filming_of_participants = "filming_of_participants"
    other = "other"


class Perpetrator(StrEnum):
    state_security = "state_security"
    police = "police"
    judiciary = "judiciary"
    local_authorities = "local_authorities"
    employer = "employer"
    non_state_on_behalf_of_state = "non_state_on_behalf_of_state"
    unknown = "unknown"
    other = "other"


class GovernmentResponse(StrEnum):
    none = "none"
    denied = "denied"
    acknowledged = "acknowledged"
    investigation_opened = "investigation_opened"
    other = "other"


class PriorUnAction(StrEnum):
    """What the UN had already done about the person or the case (none: an empty list)."""

    communication_sent = "communication_sent"
    urgent_action = "urgent_action"
    public_statement = "public_statement"
    raised_with_government = "raised_with_government"
    raised_in_session = "raised_in_session"
    included_in_reprisals_report = "included_in_reprisals_report"
    other = "other"
