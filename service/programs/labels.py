"""Display names of the program rows, session kinds and audiences, activity kinds (ko, en)."""

from __future__ import annotations

from service.lib.labels import pick_label

PROGRAM_ROWS = {
    "daily_consultation": ("일상상담", "Everyday consultations"),
    "briefing": ("사회적경제 공공구매 교육 및 설명회", "Public procurement briefings and training"),
    "matching_contract": ("사회적가치 고려 매칭계약", "Contracts matched on social value"),
    "proposal_contract": ("사업제안 및 정보제공 활동을 통한 계약", "Contracts from proposals and information"),
    "fair": ("공공구매 상담회 운영", "Procurement fairs held"),
    "cooperation": ("교육청 등 협력활동 지원", "Cooperation with the education office and others"),
}
PROGRAM_NAME = ("공공시장 확대지원", "Public market expansion")
SESSION_KINDS = {"briefing": ("설명회", "Briefing"), "training": ("교육", "Training")}
AUDIENCES = {
    "agencies": ("공공기관", "Agencies"),
    "firms": ("사회적경제기업", "Firms"),
    "both": ("공공기관·기업", "Agencies and firms"),
}
REGISTRATION_STATUSES = {
    "registered": ("신청 완료", "Registered"),
    "waitlisted": ("대기", "Waiting list"),
    "cancelled": ("취소", "Cancelled"),
}
ACTIVITY_KINDS = {
    "meeting": ("간담회·협의", "Meeting"),
    "joint_event": ("공동 행사", "Joint event"),
    "training_support": ("교육 지원", "Training support"),
    "agreement": ("업무협약", "Agreement"),
    "other": ("기타", "Other"),
}


def label(table: dict[str, tuple[str, str]], code: str, locale: str) -> str:
    return pick_label(table, code, locale)


def program_name(locale: str) -> str:
    return PROGRAM_NAME[0] if locale == "ko" else PROGRAM_NAME[1]
