//! Typed accessors for the segments of VXU^V04 (MSH, PID, PD1, NK1, ORC, RXA, RXR, OBX) and
//! QBP^Q11 (MSH, QPD, RCP), and the segment groups of a VXU (the ORDER groups). Field numbers
//! follow HL7 2.5.1 and the CDC guide; each accessor says which field it reads.

use crate::datatypes::{Address, Coded, Hd, Identifier, Name, Phone};
use crate::er7::{Message, Segment};

fn all<T: for<'a> From<&'a crate::er7::Repetition>>(seg: &Segment, n: usize) -> Vec<T> {
    seg.field(n)
        .map(|f| f.present().map(T::from).collect())
        .unwrap_or_default()
}

fn first<T: for<'a> From<&'a crate::er7::Repetition> + Default>(seg: &Segment, n: usize) -> T {
    seg.field(n)
        .and_then(|f| f.present().next())
        .map(T::from)
        .unwrap_or_default()
}

macro_rules! view {
    ($(#[$doc:meta])* $name:ident, $seg:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name<'a>(pub &'a Segment);
        impl<'a> $name<'a> {
            /// The view, when `seg` is a
            #[doc = $seg]
            /// segment.
            pub fn of(seg: &'a Segment) -> Option<Self> {
                (seg.name == $seg).then_some(Self(seg))
            }
            pub fn segment(&self) -> &'a Segment {
                self.0
            }
        }
    };
}

view!(/// Message header.
    Msh, "MSH");
view!(/// Patient identification.
    Pid, "PID");
view!(/// Patient additional demographics (registry status, publicity, protection).
    Pd1, "PD1");
view!(/// Next of kin / associated parties (the guide's responsible persons).
    Nk1, "NK1");
view!(/// Common order (one per ORDER group).
    Orc, "ORC");
view!(/// Pharmacy/treatment administration: the dose.
    Rxa, "RXA");
view!(/// Pharmacy/treatment route.
    Rxr, "RXR");
view!(/// Observation about the dose (VFC eligibility, VIS, contraindications, immunity...).
    Obx, "OBX");
view!(/// Query parameter definition.
    Qpd, "QPD");
view!(/// Response control parameter.
    Rcp, "RCP");

impl<'a> Msh<'a> {
    /// MSH-3.
    pub fn sending_application(&self) -> Hd {
        first(self.0, 3)
    }
    /// MSH-4: the sender's facility (its `facilityId` in MSH-4.1).
    pub fn sending_facility(&self) -> Hd {
        first(self.0, 4)
    }
    /// MSH-5.
    pub fn receiving_application(&self) -> Hd {
        first(self.0, 5)
    }
    /// MSH-6.
    pub fn receiving_facility(&self) -> Hd {
        first(self.0, 6)
    }
    /// MSH-7, as sent (TS).
    pub fn date_time(&self) -> &'a str {
        self.0.value(7)
    }
    /// MSH-9: message code, trigger event, structure.
    pub fn message_type(&self) -> (&'a str, &'a str, &'a str) {
        (self.0.get(9, 1), self.0.get(9, 2), self.0.get(9, 3))
    }
    /// MSH-10.
    pub fn control_id(&self) -> &'a str {
        self.0.value(10)
    }
    /// MSH-11.
    pub fn processing_id(&self) -> &'a str {
        self.0.value(11)
    }
    /// MSH-12.
    pub fn version(&self) -> &'a str {
        self.0.value(12)
    }
    /// MSH-15 (accept acknowledgment type).
    pub fn accept_ack_type(&self) -> &'a str {
        self.0.value(15)
    }
    /// MSH-16 (application acknowledgment type).
    pub fn application_ack_type(&self) -> &'a str {
        self.0.value(16)
    }
    /// MSH-21: the message profile identifiers (Z22, Z34, Z44).
    pub fn profiles(&self) -> Vec<&'a str> {
        self.0
            .field(21)
            .map(|f| f.present().map(|r| r.get(1)).collect())
            .unwrap_or_default()
    }
    /// MSH-22 (sending responsible organization).
    pub fn sending_organization(&self) -> &'a str {
        self.0.value(22)
    }
}

impl<'a> Pid<'a> {
    /// PID-3: every identifier with its assigning authority.
    pub fn identifiers(&self) -> Vec<Identifier> {
        all(self.0, 3)
    }
    /// PID-5: legal name first as sent, then aliases.
    pub fn names(&self) -> Vec<Name> {
        all(self.0, 5)
    }
    /// PID-6.1: mother's maiden (family) name.
    pub fn mothers_maiden_name(&self) -> &'a str {
        self.0.value(6)
    }
    /// PID-7: birth date (DTM, as sent).
    pub fn birth_date(&self) -> &'a str {
        self.0.value(7)
    }
    /// PID-8: administrative sex (F, M, U).
    pub fn sex(&self) -> &'a str {
        self.0.value(8)
    }
    /// PID-10.
    pub fn races(&self) -> Vec<Coded> {
        all(self.0, 10)
    }
    /// PID-11.
    pub fn addresses(&self) -> Vec<Address> {
        all(self.0, 11)
    }
    /// PID-13.
    pub fn phones(&self) -> Vec<Phone> {
        all(self.0, 13)
    }
    /// PID-22.
    pub fn ethnicity(&self) -> Vec<Coded> {
        all(self.0, 22)
    }
    /// PID-24: multiple birth indicator (Y/N).
    pub fn multiple_birth(&self) -> &'a str {
        self.0.value(24)
    }
    /// PID-25: birth order.
    pub fn birth_order(&self) -> &'a str {
        self.0.value(25)
    }
    /// PID-29: death date.
    pub fn death_date(&self) -> &'a str {
        self.0.value(29)
    }
    /// PID-30: death indicator.
    pub fn death_indicator(&self) -> &'a str {
        self.0.value(30)
    }
}

impl<'a> Pd1<'a> {
    /// PD1-11: publicity code (table 0215).
    pub fn publicity(&self) -> Coded {
        first(self.0, 11)
    }
    /// PD1-12: protection indicator (Y: do not share).
    pub fn protection(&self) -> &'a str {
        self.0.value(12)
    }
    /// PD1-13: protection indicator effective date.
    pub fn protection_date(&self) -> &'a str {
        self.0.value(13)
    }
    /// PD1-16: immunization registry status (table 0441: A active, I inactive, P moved…).
    pub fn registry_status(&self) -> &'a str {
        self.0.value(16)
    }
    /// PD1-17: registry status effective date.
    pub fn registry_status_date(&self) -> &'a str {
        self.0.value(17)
    }
}

impl<'a> Nk1<'a> {
    /// NK1-2.
    pub fn names(&self) -> Vec<Name> {
        all(self.0, 2)
    }
    /// NK1-3: relationship (table 0063: MTH, FTH, GRD…).
    pub fn relationship(&self) -> Coded {
        first(self.0, 3)
    }
    /// NK1-4.
    pub fn addresses(&self) -> Vec<Address> {
        all(self.0, 4)
    }
    /// NK1-5.
    pub fn phones(&self) -> Vec<Phone> {
        all(self.0, 5)
    }
}

impl<'a> Orc<'a> {
    /// ORC-1: order control (RE).
    pub fn order_control(&self) -> &'a str {
        self.0.value(1)
    }
    /// ORC-2.1: placer order number.
    pub fn placer_order(&self) -> &'a str {
        self.0.value(2)
    }
    /// ORC-3.1: filler order number (the sender's id of the dose, for updates and deletes).
    pub fn filler_order(&self) -> &'a str {
        self.0.value(3)
    }
    /// ORC-3.2: the filler's namespace.
    pub fn filler_namespace(&self) -> &'a str {
        self.0.get(3, 2)
    }
}

impl<'a> Rxa<'a> {
    /// RXA-3: date/time start of administration.
    pub fn administered_at(&self) -> &'a str {
        self.0.value(3)
    }
    /// RXA-5: the vaccine (CVX, or NDC in the alternate triplet).
    pub fn vaccine(&self) -> Coded {
        first(self.0, 5)
    }
    /// RXA-6: amount (999 when unknown).
    pub fn amount(&self) -> &'a str {
        self.0.value(6)
    }
    /// RXA-7.
    pub fn units(&self) -> Coded {
        first(self.0, 7)
    }
    /// RXA-9.1 of the first repetition: information source (NIP001: 00 administered, 01-08
    /// historical).
    pub fn information_source(&self) -> &'a str {
        self.0.value(9)
    }
    /// Whether RXA-9 says "new immunization record" (00): administered, not historical.
    pub fn is_administered(&self) -> bool {
        self.information_source() == "00"
    }
    /// RXA-10.
    pub fn administering_provider(&self) -> Name {
        let r = self.0.field(10).and_then(|f| f.present().next());
        r.map(|r| Name {
            family: r.get(2).into(),
            given: r.get(3).into(),
            middle: r.get(4).into(),
            ..Name::default()
        })
        .unwrap_or_default()
    }
    /// RXA-11.4.1: the administering organization's facility id.
    pub fn administered_at_facility(&self) -> &'a str {
        self.0
            .field(11)
            .and_then(|f| f.first())
            .and_then(|r| r.component(4))
            .map_or("", |c| c.sub(1))
    }
    /// RXA-15: lot numbers.
    pub fn lots(&self) -> Vec<&'a str> {
        self.0
            .field(15)
            .map(|f| f.present().map(|r| r.get(1)).collect())
            .unwrap_or_default()
    }
    /// RXA-16: lot expiration date.
    pub fn expiration(&self) -> &'a str {
        self.0.value(16)
    }
    /// RXA-17: manufacturer (MVX).
    pub fn manufacturer(&self) -> Coded {
        first(self.0, 17)
    }
    /// RXA-18: refusal reasons (NIP002).
    pub fn refusal_reasons(&self) -> Vec<Coded> {
        all(self.0, 18)
    }
    /// RXA-20: completion status (CP, RE, NA, PA; CP when empty per the guide).
    pub fn completion_status(&self) -> &'a str {
        match self.0.value(20) {
            "" => "CP",
            s => s,
        }
    }
    /// RXA-21: action code (A, U, D; A when empty per the guide).
    pub fn action_code(&self) -> &'a str {
        match self.0.value(21) {
            "" => "A",
            s => s,
        }
    }
}

impl<'a> Rxr<'a> {
    /// RXR-1.
    pub fn route(&self) -> Coded {
        first(self.0, 1)
    }
    /// RXR-2.
    pub fn site(&self) -> Coded {
        first(self.0, 2)
    }
}

impl<'a> Obx<'a> {
    /// OBX-1.
    pub fn set_id(&self) -> &'a str {
        self.0.value(1)
    }
    /// OBX-2: value type (CE, TS, NM, ST, DT…).
    pub fn value_type(&self) -> &'a str {
        self.0.value(2)
    }
    /// OBX-3: the observation (LOINC: 64994-7 VFC eligibility, 69764-9 VIS document…).
    pub fn observation(&self) -> Coded {
        first(self.0, 3)
    }
    /// OBX-4: sub-id grouping related observations (a VIS and its dates).
    pub fn sub_id(&self) -> &'a str {
        self.0.value(4)
    }
    /// OBX-5 as a coded value (for CE/CWE observations).
    pub fn coded_value(&self) -> Coded {
        first(self.0, 5)
    }
    /// OBX-5.1 as text (for TS, DT, NM, ST observations).
    pub fn value(&self) -> &'a str {
        self.0.value(5)
    }
    /// OBX-14: date/time of the observation.
    pub fn observed_at(&self) -> &'a str {
        self.0.value(14)
    }
    /// OBX-17: observation method (VFC eligibility captured at visit level, …).
    pub fn method(&self) -> Coded {
        first(self.0, 17)
    }
}

impl<'a> Qpd<'a> {
    /// QPD-1: the query (Z34 or Z44 with its name and system).
    pub fn query_name(&self) -> Coded {
        first(self.0, 1)
    }
    /// QPD-2: query tag, echoed in QAK-1.
    pub fn query_tag(&self) -> &'a str {
        self.0.value(2)
    }
    /// QPD-3: patient identifiers.
    pub fn identifiers(&self) -> Vec<Identifier> {
        all(self.0, 3)
    }
    /// QPD-4: patient name.
    pub fn name(&self) -> Name {
        first(self.0, 4)
    }
    /// QPD-5: mother's maiden name.
    pub fn mothers_maiden_name(&self) -> Name {
        first(self.0, 5)
    }
    /// QPD-6: birth date.
    pub fn birth_date(&self) -> &'a str {
        self.0.value(6)
    }
    /// QPD-7: sex.
    pub fn sex(&self) -> &'a str {
        self.0.value(7)
    }
    /// QPD-8: address.
    pub fn address(&self) -> Address {
        first(self.0, 8)
    }
    /// QPD-9: phone.
    pub fn phone(&self) -> Phone {
        first(self.0, 9)
    }
    /// QPD-10: multiple birth indicator.
    pub fn multiple_birth(&self) -> &'a str {
        self.0.value(10)
    }
    /// QPD-11: birth order.
    pub fn birth_order(&self) -> &'a str {
        self.0.value(11)
    }
}

impl<'a> Rcp<'a> {
    /// RCP-1: query priority (I immediate).
    pub fn priority(&self) -> &'a str {
        self.0.value(1)
    }
    /// RCP-2.1: how many candidates the querier accepts at most (`None`: unspecified or not a
    /// number).
    pub fn quantity_limit(&self) -> Option<u32> {
        self.0.value(2).parse().ok()
    }
}

/// One ORDER group of a VXU: ORC, RXA, RXR and the OBX observations (the NTE after each OBX
/// and TQ1/TQ2 timing are not read).
#[derive(Debug, Clone)]
pub struct Order<'a> {
    /// 1-based position of the group among the message's ORDER groups.
    pub number: usize,
    /// Indices into `Message::segments` of the group's segments (ORC first).
    pub segments: Vec<usize>,
    pub orc: Orc<'a>,
    pub rxa: Option<Rxa<'a>>,
    pub rxr: Option<Rxr<'a>>,
    pub observations: Vec<Obx<'a>>,
}

/// A VXU^V04 read through its groups.
#[derive(Debug, Clone)]
pub struct Vxu<'a> {
    pub msh: Msh<'a>,
    pub pid: Option<Pid<'a>>,
    pub pd1: Option<Pd1<'a>>,
    pub next_of_kin: Vec<Nk1<'a>>,
    pub orders: Vec<Order<'a>>,
}

impl<'a> Vxu<'a> {
    /// Groups the segments of a parsed message; `skip` lists the segment indices validation
    /// ignored (see `Validation::ignored_segments`).
    pub fn read(msg: &'a Message, skip: &[usize]) -> Option<Self> {
        let mut segs = msg
            .segments
            .iter()
            .enumerate()
            .filter(|(i, _)| !skip.contains(i));
        let msh = Msh::of(segs.next()?.1)?;
        let mut v = Vxu {
            msh,
            pid: None,
            pd1: None,
            next_of_kin: Vec::new(),
            orders: Vec::new(),
        };
        for (i, s) in segs {
            if s.name != "ORC" {
                if let Some(o) = v.orders.last_mut() {
                    o.segments.push(i);
                }
            }
            match s.name.as_str() {
                "PID" if v.pid.is_none() && v.orders.is_empty() => v.pid = Some(Pid(s)),
                "PD1" if v.pd1.is_none() && v.orders.is_empty() => v.pd1 = Some(Pd1(s)),
                "NK1" if v.orders.is_empty() => v.next_of_kin.push(Nk1(s)),
                "ORC" => {
                    let number = v.orders.len() + 1;
                    v.orders.push(Order {
                        number,
                        segments: vec![i],
                        orc: Orc(s),
                        rxa: None,
                        rxr: None,
                        observations: Vec::new(),
                    })
                }
                "RXA" => {
                    if let Some(o) = v.orders.last_mut().filter(|o| o.rxa.is_none()) {
                        o.rxa = Some(Rxa(s));
                    }
                }
                "RXR" => {
                    if let Some(o) = v
                        .orders
                        .last_mut()
                        .filter(|o| o.rxr.is_none() && o.rxa.is_some())
                    {
                        o.rxr = Some(Rxr(s));
                    }
                }
                "OBX" => {
                    if let Some(o) = v.orders.last_mut().filter(|o| o.rxa.is_some()) {
                        o.observations.push(Obx(s));
                    }
                }
                _ => {}
            }
        }
        Some(v)
    }
}
