//! Kinesis data stream controls.

use super::{each, is_aws_managed_key, kms_key_by_ref, ControlFn, Params, Verdict};
use crate::model::kinesis::Stream;
use crate::model::State;
use serde_json::json;

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("kinesis-stream-encrypted", encrypted),
    ("kinesis-stream-cmk", customer_key),
    ("kinesis-stream-retention", retention),
];

/// A stream that was listed but could not be described: the collector keeps it with status
/// `UNKNOWN` and sentinel values (encryption `UNKNOWN`, retention -1), which must not be judged.
fn undescribed(s: &Stream) -> Option<Verdict> {
    (s.status == "UNKNOWN" || s.encryption_type == "UNKNOWN").then(|| {
        let why = s.meta.tags.get().err().unwrap_or("DescribeStreamSummary failed");
        Verdict::error(&s.meta, format!("stream {} could not be described: {why}", s.meta.id))
    })
}

fn encrypted(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.kinesis.streams, "kinesis:stream", |s| {
        if let Some(v) = undescribed(s) {
            return v;
        }
        let observed = json!({"encryption_type": s.encryption_type});
        if s.encryption_type == "KMS" {
            Verdict::pass(&s.meta, "server-side encryption with KMS is enabled", observed)
        } else {
            Verdict::fail(&s.meta, format!("stream {} is not encrypted at rest (encryption type {})", s.meta.id, s.encryption_type), observed, json!({"encryption_type": "KMS"}))
        }
    })
}

/// Encrypted with a key that is neither `alias/aws/kinesis` nor, when the State knows the key,
/// one KMS lists as AWS-managed. An unencrypted stream fails too (it has no customer key).
fn customer_key(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.kinesis.streams, "kinesis:stream", |s| {
        if let Some(v) = undescribed(s) {
            return v;
        }
        let observed = json!({"encryption_type": s.encryption_type, "key_id": s.key_id});
        let expected = json!({"encryption_type": "KMS", "key_id": "a customer-managed KMS key"});
        if s.encryption_type != "KMS" {
            return Verdict::fail(&s.meta, format!("stream {} is not encrypted, so not with a customer-managed key", s.meta.id), observed, expected);
        }
        let key = s.key_id.as_deref();
        let aws_managed = |k: &str| Verdict::fail(&s.meta, format!("stream {} is encrypted with the AWS-managed key {k}", s.meta.id), observed.clone(), expected.clone());
        let Some(k) = key.filter(|k| !is_aws_managed_key(Some(k))) else {
            return aws_managed(key.unwrap_or("alias/aws/kinesis"));
        };
        // Kinesis names the AWS-managed key by its alias; a key the State holds is checked too.
        match kms_key_by_ref(&state.kms, k).map(|key| key.manager.as_str()) {
            Some("AWS") => aws_managed(k),
            Some("CUSTOMER") | None => Verdict::pass(&s.meta, format!("encrypted with customer-managed key {k}"), observed),
            Some(other) => Verdict::error(&s.meta, format!("the manager of KMS key {k} is unknown ({other})")),
        }
    })
}

fn retention(state: &State, params: &Params) -> Vec<Verdict> {
    let min = params.get("min_retention_hours");
    each(&state.kinesis.streams, "kinesis:stream", |s| {
        if let Some(v) = undescribed(s) {
            return v;
        }
        let observed = json!({"retention_hours": s.retention_hours});
        if i64::from(s.retention_hours) >= min {
            Verdict::pass(&s.meta, format!("records are kept {} hours (minimum {min})", s.retention_hours), observed)
        } else {
            Verdict::fail(
                &s.meta,
                format!("records are kept {} hours, below the {min}-hour minimum", s.retention_hours),
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
    use crate::model::State;

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
        st.meta.tags = crate::model::Observed::Unknown("kinesis:DescribeStreamSummary AccessDeniedException".into());
        st.status = "UNKNOWN".into();
        st.encryption_type = "UNKNOWN".into();
        st.key_id = None;
        st.retention_hours = -1;
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
        stream(&mut bad).encryption_type = "NONE".into();
        stream(&mut bad).key_id = None;
        assert_eq!(eval("kinesis-stream-encrypted", &bad), vec![Status::Fail]);
        assert_eq!(eval("kinesis-stream-encrypted", &unlisted()), vec![Status::Error]);
    }

    #[test]
    fn customer_key() {
        assert_eq!(eval("kinesis-stream-cmk", &fixture()), vec![Status::Pass]);

        let mut aws = fixture();
        stream(&mut aws).key_id = Some("alias/aws/kinesis".into());
        assert_eq!(eval("kinesis-stream-cmk", &aws), vec![Status::Fail]);

        let mut none = fixture();
        stream(&mut none).encryption_type = "NONE".into();
        stream(&mut none).key_id = None;
        assert_eq!(eval("kinesis-stream-cmk", &none), vec![Status::Fail]);

        // the alias of the customer key, by name and by ARN, is fine
        let mut alias = fixture();
        stream(&mut alias).key_id = Some("alias/tapaudit-dev-data-key".into());
        assert_eq!(eval("kinesis-stream-cmk", &alias), vec![Status::Pass]);
        stream(&mut alias).key_id = Some("arn:aws:kms:us-east-1:123456789012:alias/tapaudit-dev-data-key".into());
        assert_eq!(eval("kinesis-stream-cmk", &alias), vec![Status::Pass]);

        // a key ARN the State knows as AWS-managed fails even without the alias
        let mut managed = fixture();
        managed.kms.keys.items.values_mut().for_each(|k| k.manager = "AWS".into());
        assert_eq!(eval("kinesis-stream-cmk", &managed), vec![Status::Fail]);

        // a key whose DescribeKey failed: its manager is unknown
        let mut unread = fixture();
        unread.kms.keys.items.values_mut().for_each(|k| k.manager = "UNKNOWN".into());
        assert_eq!(eval("kinesis-stream-cmk", &unread), vec![Status::Error]);

        assert_eq!(eval("kinesis-stream-cmk", &unlisted()), vec![Status::Error]);
    }

    #[test]
    fn retention() {
        // the fixture keeps exactly the 24-hour minimum
        assert_eq!(eval("kinesis-stream-retention", &fixture()), vec![Status::Pass]);
        let mut longer = fixture();
        stream(&mut longer).retention_hours = 168;
        assert_eq!(eval("kinesis-stream-retention", &longer), vec![Status::Pass]);
        let mut bad = fixture();
        stream(&mut bad).retention_hours = 23;
        assert_eq!(eval("kinesis-stream-retention", &bad), vec![Status::Fail]);
        assert_eq!(eval("kinesis-stream-retention", &unlisted()), vec![Status::Error]);
    }
}
