//! Kinesis data stream controls.

use super::{customer_key_verdict, each, ControlFn, Params, Verdict};
use crate::model::kinesis::Stream;
use crate::model::State;
use serde_json::json;

pub const CONTROLS: &[(&str, ControlFn)] =
    &[("kinesis-stream-encrypted", encrypted), ("kinesis-stream-cmk", customer_key), ("kinesis-stream-retention", retention)];

fn encrypted(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.kinesis.streams, "kinesis:stream", |s| {
        let enc = match s.encryption_type.get() {
            Ok(e) => e,
            Err(reason) => return Verdict::error(&s.meta, format!("stream {} could not be described: {reason}", s.meta.id)),
        };
        let observed = json!({"encryption_type": enc});
        if enc == "KMS" {
            Verdict::pass(&s.meta, "server-side encryption with KMS is enabled", observed)
        } else {
            Verdict::fail(
                &s.meta,
                format!("stream {} is not encrypted at rest (encryption type {enc})", s.meta.id),
                observed,
                json!({"encryption_type": "KMS"}),
            )
        }
    })
}

/// Encrypted with a customer-managed key (the shared key resolver decides). An unencrypted
/// stream fails too (it has no customer key).
fn customer_key(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.kinesis.streams, "kinesis:stream", |s: &Stream| {
        let (enc, key) = match (s.encryption_type.get(), s.key_id.get()) {
            (Ok(e), Ok(k)) => (e, k.as_deref()),
            (Err(r), _) | (_, Err(r)) => return Verdict::error(&s.meta, format!("stream {} could not be described: {r}", s.meta.id)),
        };
        let observed = json!({"encryption_type": enc, "key_id": key});
        let expected = json!({"encryption_type": "KMS", "key_id": "a customer-managed KMS key"});
        match (enc.as_str(), key) {
            ("KMS", Some(k)) => customer_key_verdict(state, &s.meta, &format!("stream {}", s.meta.id), k, observed, expected),
            ("KMS", None) => Verdict::error(&s.meta, format!("stream {} is KMS-encrypted but its key is not reported", s.meta.id)),
            _ => Verdict::fail(&s.meta, format!("stream {} is not encrypted, so not with a customer-managed key", s.meta.id), observed, expected),
        }
    })
}

fn retention(state: &State, params: &Params) -> Vec<Verdict> {
    let min = params.get("min_retention_hours");
    each(&state.kinesis.streams, "kinesis:stream", |s| {
        let hours = match s.retention_hours.get() {
            Ok(h) => *h,
            Err(reason) => return Verdict::error(&s.meta, format!("stream {} could not be described: {reason}", s.meta.id)),
        };
        let observed = json!({"retention_hours": hours});
        if i64::from(hours) >= min {
            Verdict::pass(&s.meta, format!("records are kept {hours} hours (minimum {min})"), observed)
        } else {
            Verdict::fail(
                &s.meta,
                format!("records are kept {hours} hours, below the {min}-hour minimum"),
                observed,
                json!({"retention_hours": format!(">= {min}")}),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::controls::testing::{eval, fixture};
    use crate::finding::Status;
    use crate::model::kinesis::Stream;
    use crate::model::kms::Manager;
    use crate::model::{Observed, State};

    fn k<T>(v: T) -> Observed<T> {
        Observed::Known(v)
    }

    fn stream(s: &mut State) -> &mut Stream {
        s.kinesis.streams.items.values_mut().next().expect("stream in fixture")
    }

    fn unlisted() -> State {
        crate::controls::testing::unlisted(|s| &mut s.kinesis.streams)
    }

    /// What the collector records for a stream it listed but could not describe.
    fn undescribed() -> State {
        let mut s = fixture();
        let st = stream(&mut s);
        let why = "kinesis:DescribeStreamSummary failed: AccessDeniedException".to_string();
        st.status = Observed::Unknown(why.clone());
        st.encryption_type = Observed::Unknown(why.clone());
        st.key_id = Observed::Unknown(why.clone());
        st.retention_hours = Observed::Unknown(why.clone());
        st.open_shards = Observed::Unknown(why);
        s
    }

    #[test]
    fn an_undescribed_stream_is_an_error_not_a_fail() {
        for id in ["kinesis-stream-encrypted", "kinesis-stream-cmk", "kinesis-stream-retention"] {
            assert_eq!(eval(id, &undescribed()), vec![Status::Error], "{id}");
        }
    }

    #[test]
    fn encrypted() {
        assert_eq!(eval("kinesis-stream-encrypted", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        stream(&mut bad).encryption_type = k("NONE".into());
        stream(&mut bad).key_id = k(None);
        assert_eq!(eval("kinesis-stream-encrypted", &bad), vec![Status::Fail]);
        assert_eq!(eval("kinesis-stream-encrypted", &unlisted()), vec![Status::Error]);
    }

    #[test]
    fn customer_key() {
        assert_eq!(eval("kinesis-stream-cmk", &fixture()), vec![Status::Pass]);

        let mut aws = fixture();
        stream(&mut aws).key_id = k(Some("alias/aws/kinesis".into()));
        assert_eq!(eval("kinesis-stream-cmk", &aws), vec![Status::Fail]);

        let mut none = fixture();
        stream(&mut none).encryption_type = k("NONE".into());
        stream(&mut none).key_id = k(None);
        assert_eq!(eval("kinesis-stream-cmk", &none), vec![Status::Fail]);

        // the alias of the customer key, by name and by ARN, is fine
        let mut alias = fixture();
        stream(&mut alias).key_id = k(Some("alias/tapaudit-dev-data-key".into()));
        assert_eq!(eval("kinesis-stream-cmk", &alias), vec![Status::Pass]);
        stream(&mut alias).key_id = k(Some("arn:aws:kms:us-east-1:123456789012:alias/tapaudit-dev-data-key".into()));
        assert_eq!(eval("kinesis-stream-cmk", &alias), vec![Status::Pass]);

        // a key ARN the State knows as AWS-managed fails even without the alias
        let mut managed = fixture();
        managed.kms.keys.items.values_mut().for_each(|key| key.manager = k(Manager::Aws));
        assert_eq!(eval("kinesis-stream-cmk", &managed), vec![Status::Fail]);

        // a key whose DescribeKey failed: its manager is unknown
        let mut unread = fixture();
        unread.kms.keys.items.values_mut().for_each(|k| k.manager = Observed::Unknown("kms:DescribeKey failed: AccessDenied".into()));
        assert_eq!(eval("kinesis-stream-cmk", &unread), vec![Status::Error]);

        assert_eq!(eval("kinesis-stream-cmk", &unlisted()), vec![Status::Error]);
    }

    #[test]
    fn retention() {
        // the fixture keeps exactly the 24-hour minimum
        assert_eq!(eval("kinesis-stream-retention", &fixture()), vec![Status::Pass]);
        let mut longer = fixture();
        stream(&mut longer).retention_hours = k(168);
        assert_eq!(eval("kinesis-stream-retention", &longer), vec![Status::Pass]);
        let mut bad = fixture();
        stream(&mut bad).retention_hours = k(23);
        assert_eq!(eval("kinesis-stream-retention", &bad), vec![Status::Fail]);
        assert_eq!(eval("kinesis-stream-retention", &unlisted()), vec![Status::Error]);
    }
}
