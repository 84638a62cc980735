"""Display names of the contract channels (계약 경로) in the interface language."""

from __future__ import annotations

from service.lib.labels import pick_label

CHANNELS = {
    "fair": ("상담회", "Consultation fair"),
    "daily_consultation": ("일상상담", "Everyday consultation"),
    "proposal": ("사업제안·정보제공", "Proposal / information"),
    "matching_contract": ("사회적가치 매칭계약", "Social-value matching contract"),
    "other": ("기타", "Other"),
}


def channel_label(code: str, locale: str) -> str:
    return pick_label(CHANNELS, code, locale)
