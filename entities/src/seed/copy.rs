//! Demo rows in PostgreSQL's binary `COPY` format.
//!
//! Binary rather than text because the server then reads each field as it is stored (16
//! bytes of UUID, 4 of date, 8 of timestamp) instead of parsing text, and the client writes
//! them without formatting: a third less to send, and the cheapest input `COPY` has.
//! The format is PostgreSQL's "Binary Format" of `COPY`: a signature, then per row a field
//! count and length-prefixed big-endian fields, then a trailer.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::model::{dose, enrollment, guardian_link, membership, person, person_blocking_key};
use crate::seed::generate::Batch;

/// The signature, flags (no OIDs) and header-extension length every binary stream starts with.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// PostgreSQL counts dates and timestamps from 2000-01-01, not from the Unix epoch.
const PG_EPOCH_UNIX_SECONDS: i64 = 946_684_800;
const PG_EPOCH_DAYS_FROM_CE: i32 = 730_120;

/// One table's rows of a batch, as one `COPY … FROM STDIN (FORMAT binary)` payload.
#[derive(Debug)]
pub(crate) struct CopyStream {
    buf: Vec<u8>,
    rows: u64,
}

impl CopyStream {
    fn with_capacity(bytes: usize) -> CopyStream {
        let mut buf = Vec::with_capacity(bytes + HEADER.len() + 2);
        buf.extend_from_slice(HEADER);
        CopyStream { buf, rows: 0 }
    }

    fn row(&mut self, fields: i16) {
        self.rows += 1;
        self.buf.extend_from_slice(&fields.to_be_bytes());
    }

    fn field(&mut self, bytes: &[u8]) {
        // Fields here are short strings and fixed-size values, far below i32::MAX.
        let len = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(bytes);
    }

    fn null(&mut self) {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
    }

    fn text(&mut self, v: &str) {
        self.field(v.as_bytes());
    }

    fn opt_text(&mut self, v: Option<&str>) {
        match v {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    fn uuid(&mut self, v: Uuid) {
        self.field(v.as_bytes());
    }

    fn opt_uuid(&mut self, v: Option<Uuid>) {
        match v {
            Some(v) => self.uuid(v),
            None => self.null(),
        }
    }

    fn bool(&mut self, v: bool) {
        self.field(&[u8::from(v)]);
    }

    fn date(&mut self, v: NaiveDate) {
        use chrono::Datelike;
        self.field(&(v.num_days_from_ce() - PG_EPOCH_DAYS_FROM_CE).to_be_bytes());
    }

    fn timestamptz(&mut self, v: DateTime<Utc>) {
        let micros = v.timestamp_micros() - PG_EPOCH_UNIX_SECONDS * 1_000_000;
        self.field(&micros.to_be_bytes());
    }

    /// The payload, trailer included.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.buf
    }

    /// Rows written so far.
    pub(crate) fn rows(&self) -> u64 {
        self.rows
    }
}

/// A row type loaded by `COPY`: its table, its column list and how one row is written, in
/// that column order.
pub(crate) trait CopyRow {
    const TABLE: &'static str;
    const COLUMNS: &'static [&'static str];
    /// A typical encoded size, to size buffers once.
    const BYTES: usize;
    fn write(&self, out: &mut CopyStream);
}

/// The `COPY` statement that reads what [`encode`] wrote for `R`.
pub(crate) fn statement<R: CopyRow>() -> String {
    format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        R::TABLE,
        R::COLUMNS.join(", ")
    )
}

/// Encodes rows into one payload.
pub(crate) fn encode<R: CopyRow>(rows: &[R]) -> CopyStream {
    let mut out = CopyStream::with_capacity(rows.len() * R::BYTES);
    for r in rows {
        let before = out.rows;
        r.write(&mut out);
        debug_assert_eq!(out.rows, before + 1, "{} writes one row", R::TABLE);
    }
    out
}

fn fields<R: CopyRow>() -> i16 {
    // Column lists are a handful of names.
    i16::try_from(R::COLUMNS.len()).unwrap_or(i16::MAX)
}

impl CopyRow for person::Model {
    const TABLE: &'static str = "persons";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "first_name",
        "middle_name",
        "last_name",
        "first_name_key",
        "last_name_key",
        "date_of_birth",
        "gender",
        "address_line1",
        "address_line2",
        "city",
        "state",
        "postal_code",
        "phone",
        "email",
        "participation",
        "locked_to_org_id",
        "reminders",
        "created_at",
        "updated_at",
    ];
    const BYTES: usize = 260;

    fn write(&self, out: &mut CopyStream) {
        out.row(fields::<Self>());
        out.uuid(self.id);
        out.text(&self.first_name);
        out.opt_text(self.middle_name.as_deref());
        out.text(&self.last_name);
        out.text(&self.first_name_key);
        out.text(&self.last_name_key);
        out.date(self.date_of_birth);
        out.text(self.gender.as_str());
        out.opt_text(self.address_line1.as_deref());
        out.opt_text(self.address_line2.as_deref());
        out.opt_text(self.city.as_deref());
        out.opt_text(self.state.as_deref());
        out.opt_text(self.postal_code.as_deref());
        out.opt_text(self.phone.as_deref());
        out.opt_text(self.email.as_deref());
        out.text(self.participation.as_str());
        out.opt_uuid(self.locked_to_org_id);
        out.bool(self.reminders);
        out.timestamptz(self.created_at);
        out.timestamptz(self.updated_at);
    }
}

impl CopyRow for guardian_link::Model {
    const TABLE: &'static str = "guardian_links";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "person_id",
        "guardian_id",
        "relationship",
        "created_at",
        "verified_at",
        "verified_by",
    ];
    const BYTES: usize = 120;

    fn write(&self, out: &mut CopyStream) {
        out.row(fields::<Self>());
        out.uuid(self.id);
        out.uuid(self.person_id);
        out.uuid(self.guardian_id);
        out.text(&self.relationship);
        out.timestamptz(self.created_at);
        match self.verified_at {
            Some(at) => out.timestamptz(at),
            None => out.null(),
        }
        out.opt_text(self.verified_by.as_deref());
    }
}

impl CopyRow for dose::Model {
    const TABLE: &'static str = "doses";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "person_id",
        "cvx",
        "date_given",
        "mvx",
        "lot_number",
        "site",
        "route",
        "administered_by_org_id",
        "reported_by_org_id",
        "recorded_by",
        "recorded_at",
    ];
    const BYTES: usize = 150;

    fn write(&self, out: &mut CopyStream) {
        out.row(fields::<Self>());
        out.uuid(self.id);
        out.uuid(self.person_id);
        out.text(&self.cvx);
        out.date(self.date_given);
        out.opt_text(self.mvx.as_deref());
        out.opt_text(self.lot_number.as_deref());
        out.opt_text(self.site.as_deref());
        out.opt_text(self.route.as_deref());
        out.opt_uuid(self.administered_by_org_id);
        out.opt_uuid(self.reported_by_org_id);
        out.text(&self.recorded_by);
        out.timestamptz(self.recorded_at);
    }
}

impl CopyRow for enrollment::Model {
    const TABLE: &'static str = "enrollments";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "person_id",
        "organization_id",
        "school_year",
        "grade",
        "created_at",
    ];
    const BYTES: usize = 90;

    fn write(&self, out: &mut CopyStream) {
        out.row(fields::<Self>());
        out.uuid(self.id);
        out.uuid(self.person_id);
        out.uuid(self.organization_id);
        out.text(&self.school_year);
        out.text(&self.grade);
        out.timestamptz(self.created_at);
    }
}

impl CopyRow for membership::Model {
    const TABLE: &'static str = "memberships";
    const COLUMNS: &'static [&'static str] = &["id", "person_id", "organization_id", "created_at"];
    const BYTES: usize = 80;

    fn write(&self, out: &mut CopyStream) {
        out.row(fields::<Self>());
        out.uuid(self.id);
        out.uuid(self.person_id);
        out.uuid(self.organization_id);
        out.timestamptz(self.created_at);
    }
}

impl CopyRow for person_blocking_key::Model {
    const TABLE: &'static str = "person_blocking_keys";
    const COLUMNS: &'static [&'static str] = &["key", "person_id"];
    const BYTES: usize = 50;

    fn write(&self, out: &mut CopyStream) {
        out.row(fields::<Self>());
        out.text(&self.key);
        out.uuid(self.person_id);
    }
}

/// One batch as payloads, in load order (parents before the rows that point at them).
#[derive(Debug)]
pub(crate) struct EncodedBatch {
    /// (statement, payload, rows) per table.
    pub tables: [(String, Vec<u8>, u64); 6],
}

fn table<R: CopyRow>(rows: &[R]) -> (String, Vec<u8>, u64) {
    let stream = encode(rows);
    let n = stream.rows();
    (statement::<R>(), stream.finish(), n)
}

impl EncodedBatch {
    pub(crate) fn new(batch: &Batch) -> EncodedBatch {
        EncodedBatch {
            tables: [
                table(&batch.persons),
                table(&batch.links),
                table(&batch.doses),
                table(&batch.enrollments),
                table(&batch.memberships),
                table(&batch.keys),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields_of(payload: &[u8]) -> Vec<Option<Vec<u8>>> {
        assert_eq!(&payload[..HEADER.len()], HEADER, "signature and header");
        let mut at = HEADER.len();
        let take = |at: &mut usize, n: usize| {
            let s = &payload[*at..*at + n];
            *at += n;
            s
        };
        let count = i16::from_be_bytes(take(&mut at, 2).try_into().expect("2"));
        let mut out = Vec::new();
        for _ in 0..count {
            let len = i32::from_be_bytes(take(&mut at, 4).try_into().expect("4"));
            out.push((len >= 0).then(|| take(&mut at, len as usize).to_vec()));
        }
        assert_eq!(take(&mut at, 2), [0xff, 0xff], "trailer after the one row");
        assert_eq!(at, payload.len());
        out
    }

    fn membership_at(created_at: DateTime<Utc>) -> membership::Model {
        membership::Model {
            id: Uuid::from_u128(1),
            person_id: Uuid::from_u128(2),
            organization_id: Uuid::from_u128(3),
            created_at,
        }
    }

    #[test]
    fn timestamps_count_microseconds_from_2000() {
        let at = "2000-01-01T00:00:01.000002Z"
            .parse::<DateTime<Utc>>()
            .expect("ts");
        let fields = fields_of(&encode(&[membership_at(at)]).finish());
        assert_eq!(fields.len(), 4);
        assert_eq!(
            fields[0].as_deref(),
            Some(Uuid::from_u128(1).as_bytes().as_slice())
        );
        assert_eq!(
            fields[3].as_deref(),
            Some(1_000_002i64.to_be_bytes().as_slice())
        );
        let before = "1999-12-31T23:59:59Z".parse::<DateTime<Utc>>().expect("ts");
        let fields = fields_of(&encode(&[membership_at(before)]).finish());
        assert_eq!(
            fields[3].as_deref(),
            Some((-1_000_000i64).to_be_bytes().as_slice())
        );
    }

    #[test]
    fn dates_count_days_from_2000_and_absent_values_are_null() {
        let dose = dose::Model {
            id: Uuid::from_u128(1),
            person_id: Uuid::from_u128(2),
            cvx: "08".into(),
            date_given: NaiveDate::from_ymd_opt(1999, 12, 31).expect("date"),
            mvx: None,
            lot_number: Some("L\t1\\".into()),
            site: None,
            route: None,
            administered_by_org_id: None,
            reported_by_org_id: Some(Uuid::from_u128(3)),
            recorded_by: "seed".into(),
            recorded_at: Utc::now(),
        };
        let fields = fields_of(&encode(&[dose]).finish());
        assert_eq!(fields.len(), dose::Model::COLUMNS.len());
        assert_eq!(fields[3].as_deref(), Some((-1i32).to_be_bytes().as_slice()));
        assert_eq!(fields[4], None);
        assert_eq!(
            fields[5].as_deref(),
            Some(b"L\t1\\".as_slice()),
            "no escaping"
        );
        assert_eq!(fields[8], None);
        assert_eq!(
            fields[9].as_deref(),
            Some(Uuid::from_u128(3).as_bytes().as_slice())
        );
        let jan_2 = NaiveDate::from_ymd_opt(2000, 1, 2).expect("date");
        let mut out = CopyStream::with_capacity(0);
        out.row(1);
        out.date(jan_2);
        assert_eq!(
            fields_of(&out.finish())[0].as_deref(),
            Some(1i32.to_be_bytes().as_slice())
        );
    }

    #[test]
    fn every_row_type_writes_one_field_per_column() {
        let (_, mut families) = crate::seed::generate::Families::new(
            5,
            40,
            NaiveDate::from_ymd_opt(2026, 11, 25).expect("date"),
            Utc::now(),
        );
        let batch = families.next_batch(40).expect("batch");
        fn check<R: CopyRow>(rows: &[R]) {
            assert!(!rows.is_empty(), "{} has rows", R::TABLE);
            for r in rows {
                let fields = fields_of(&encode(std::slice::from_ref(r)).finish());
                assert_eq!(fields.len(), R::COLUMNS.len(), "{}", R::TABLE);
            }
        }
        check(&batch.persons);
        check(&batch.links);
        check(&batch.doses);
        check(&batch.enrollments);
        check(&batch.memberships);
        check(&batch.keys);
    }
}
