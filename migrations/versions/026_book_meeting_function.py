"""book_meeting(): a first-come booking as one statement, in one round trip; caller_holds()

A booking used to be six round trips (BEGIN, the locks with the fair's row, SAVEPOINT, the checked
INSERT, the mail notice, COMMIT). `book_meeting` does the same work inside the database, so a
booking that is its transaction's only work is one statement and one round trip:

0. when the caller's token is given (a caller the request took from its cache without the cache's
   barrier round), the caller as the cache knows them (`caller_holds`: the token live, the user
   active, with the same role and organization, that organization of the same kind and status):
   another answer means the caller changed since the cache read them, `caller_changed`, before any
   lock. So such a request needs no other check that its cached caller is current;
1. reads before any lock or write: the firm and the agency take part in the fair (else
   `not_participant`), and no live meeting of the agency or the firm overlaps the slot (else
   `taken`, naming the constraint the INSERT would break, the agency's first). Most attempts in a
   burst are for slots taken already: they lock nothing, write nothing, wait for no WAL flush;
2. the slot's advisory lock (`meeting_slot_key`, shared with moves: writers into one slot of one
   agency table take turns), then the firm's participant row FOR UPDATE (a firm's bookings in one
   fair take turns, so the count in 4 is not outdated) and the agency's FOR KEY SHARE (marking
   slots unavailable waits for the booking, and it for them); no such rows: `not_participant`;
3. the fair's row version (`xmin`) against the one the caller checked the fair's rules on (mode,
   window, slot grid): another version means the fair changed since, `stale`, and the caller
   checks again;
4. with a fresh snapshot (each statement of a VOLATILE function takes one): `unavailable` when the
   agency or the firm marked the slot so, `limit` when the firm has its meetings' maximum;
5. the INSERT, in a block of its own (a subtransaction): when the exclusion or unique constraints
   refuse it, `taken` with the constraint's name (the rest of the transaction goes on); when it
   loses a deadlock to another writer the lock in 2 does not cover, it is tried again, 5 times;
6. the meeting's history row and its one mail notice (expanded into mails by the dispatcher).

Revision ID: 2601
Revises: 2501
Create Date: 2026-11-30 21:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "2601"
down_revision: str | Sequence[str] | None = "2501"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOT_KEY = """
CREATE FUNCTION meeting_slot_key(agency uuid, start timestamptz) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
RETURN hashtextextended('slot:' || CAST(agency AS text) || ':' || CAST(extract(epoch FROM start) AS text), 0)
"""

CALLER_HOLDS = """
CREATE FUNCTION caller_holds(
    p_token uuid, p_user uuid, p_role text, p_org uuid, p_org_kind text, p_org_status text
) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN EXISTS (
    SELECT 1
      FROM auth_tokens t
      JOIN users u ON u.id = t.user_id
      LEFT JOIN organizations o ON o.id = u.organization_id
     WHERE t.id = p_token AND t.user_id = p_user AND t.revoked_at IS NULL AND t.expires_at > now()
       AND u.is_active AND CAST(u.role AS text) = p_role AND u.organization_id IS NOT DISTINCT FROM p_org
       AND CAST(o.kind AS text) IS NOT DISTINCT FROM p_org_kind
       AND CAST(o.status AS text) IS NOT DISTINCT FROM p_org_status
)
"""

BOOK_MEETING = """
CREATE FUNCTION book_meeting(
    p_token uuid, p_role text, p_org uuid, p_org_kind text, p_org_status text,
    p_fair uuid, p_fair_version text, p_agency uuid, p_firm uuid, p_start timestamptz, p_end timestamptz,
    p_id uuid, p_event_id uuid, p_user uuid, p_by_staff boolean, p_data jsonb, p_at timestamptz,
    OUT outcome text, OUT detail text, OUT room text, OUT booked_at timestamptz
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_limit integer;
    v_version text;
    v_count bigint;
    v_attempt integer := 0;
BEGIN
    IF p_token IS NOT NULL AND NOT caller_holds(p_token, p_user, p_role, p_org, p_org_kind, p_org_status) THEN
        outcome := 'caller_changed';
        RETURN;
    END IF;
    PERFORM 1
      FROM fair_participants p
      JOIN fair_participants a ON a.fair_id = p.fair_id AND a.organization_id = p_agency AND a.kind = 'agency'
     WHERE p.fair_id = p_fair AND p.organization_id = p_firm AND p.kind = 'firm';
    IF NOT FOUND THEN
        outcome := 'not_participant';
        RETURN;
    END IF;
    SELECT CASE WHEN m.agency_id = p_agency THEN 'ex_meetings_agency_overlap' ELSE 'ex_meetings_firm_overlap' END
      INTO detail
      FROM meetings m
     WHERE (m.agency_id = p_agency OR m.firm_id = p_firm)
       AND m.during && tstzrange(p_start, p_end, '[)') AND m.status <> 'cancelled'
     ORDER BY m.agency_id = p_agency DESC
     LIMIT 1;
    IF FOUND THEN
        outcome := 'taken';
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(meeting_slot_key(p_agency, p_start));
    SELECT f.max_meetings_per_firm, CAST(f.xmin AS text), a.room_url INTO v_limit, v_version, room
      FROM fair_participants p
      JOIN fairs f ON f.id = p.fair_id
      JOIN fair_participants a ON a.fair_id = p.fair_id AND a.organization_id = p_agency AND a.kind = 'agency'
     WHERE p.fair_id = p_fair AND p.organization_id = p_firm AND p.kind = 'firm'
       FOR UPDATE OF p FOR KEY SHARE OF a;
    IF NOT FOUND THEN
        outcome := 'not_participant';
        RETURN;
    END IF;
    IF v_version IS DISTINCT FROM p_fair_version THEN
        outcome := 'stale';
        RETURN;
    END IF;
    SELECT count(*) INTO v_count FROM fair_unavailability
     WHERE fair_id = p_fair AND organization_id IN (p_agency, p_firm) AND starts_at = p_start;
    IF v_count > 0 THEN
        outcome := 'unavailable';
        RETURN;
    END IF;
    IF v_limit IS NOT NULL THEN
        SELECT count(*) INTO v_count FROM meetings
         WHERE fair_id = p_fair AND firm_id = p_firm AND status <> 'cancelled';
        IF v_count >= v_limit THEN
            outcome := 'limit';
            RETURN;
        END IF;
    END IF;
    LOOP
        BEGIN
            INSERT INTO meetings (id, fair_id, agency_id, firm_id, starts_at, ends_at, room_url, booked_by,
                                  by_staff, status, sequence, provisional)
            VALUES (p_id, p_fair, p_agency, p_firm, p_start, p_end, room, p_user, p_by_staff, 'booked', 0, false)
            RETURNING created_at INTO booked_at;
            EXIT;
        EXCEPTION
            WHEN exclusion_violation OR unique_violation THEN
                GET STACKED DIAGNOSTICS detail = CONSTRAINT_NAME;
                outcome := 'taken';
                RETURN;
            WHEN deadlock_detected THEN
                v_attempt := v_attempt + 1;
                IF v_attempt > 5 THEN
                    RAISE;
                END IF;
        END;
    END LOOP;
    INSERT INTO meeting_events (id, meeting_id, kind, actor_id, by_staff, data, at)
    VALUES (p_event_id, p_id, 'booked', p_user, p_by_staff, p_data, p_at);
    INSERT INTO mail_notices (meeting_id, kind, sequence, actor_id) VALUES (p_id, 'booked', 0, p_user)
        ON CONFLICT DO NOTHING;
    outcome := 'booked';
END
$$
"""


def upgrade() -> None:
    op.execute(SLOT_KEY)
    op.execute(CALLER_HOLDS)
    op.execute(BOOK_MEETING)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION book_meeting(uuid, text, uuid, text, text, uuid, text, uuid, uuid, timestamptz, timestamptz, "
        "uuid, uuid, uuid, boolean, jsonb, timestamptz)"
    )
    op.execute("DROP FUNCTION caller_holds(uuid, uuid, text, uuid, text, text)")
    op.execute("DROP FUNCTION meeting_slot_key(uuid, timestamptz)")
