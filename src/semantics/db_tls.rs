//! RDS engines and their transport encryption: which engines are RDS databases at all, which
//! parameter makes each engine refuse unencrypted connections, and what that parameter is when
//! a parameter group leaves it at the engine's default. Pure; the table tests follow the AWS
//! documentation cited on each rule.

/// An engine as DescribeDBInstances / DescribeDBClusters name it, by family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    MySql,
    MariaDb,
    AuroraPostgres,
    AuroraMySql,
    SqlServer,
    Oracle,
    Db2,
    /// An engine the RDS API also lists that is not an RDS database (its product name).
    NotRds(&'static str),
    /// An engine name tapaudit does not know.
    Unrecognised,
}

impl Engine {
    pub fn from_name(name: &str) -> Engine {
        let n = name.to_ascii_lowercase();
        match n.as_str() {
            "postgres" | "custom-postgres" => Engine::Postgres,
            "mysql" => Engine::MySql,
            "mariadb" => Engine::MariaDb,
            "aurora-postgresql" => Engine::AuroraPostgres,
            // `aurora` is the legacy name of Aurora MySQL 5.6-compatible
            "aurora-mysql" | "aurora" => Engine::AuroraMySql,
            // DescribeDBInstances also returns Amazon DocumentDB and Amazon Neptune instances and
            // clusters (they share the RDS management API); they are separate services
            "docdb" => Engine::NotRds("Amazon DocumentDB"),
            "neptune" => Engine::NotRds("Amazon Neptune"),
            _ if n.starts_with("sqlserver") || n.starts_with("custom-sqlserver") => Engine::SqlServer,
            _ if n.starts_with("oracle") || n.starts_with("custom-oracle") => Engine::Oracle,
            _ if n.starts_with("db2") => Engine::Db2,
            _ => Engine::Unrecognised,
        }
    }

    /// The product name when the engine is not an RDS database (out of the RDS controls' scope).
    pub fn not_rds(self) -> Option<&'static str> {
        match self {
            Engine::NotRds(product) => Some(product),
            _ => None,
        }
    }

    /// The parameter that makes the engine refuse unencrypted connections.
    pub fn tls_parameter(self) -> Option<&'static str> {
        match self {
            Engine::Postgres | Engine::AuroraPostgres | Engine::SqlServer => Some(FORCE_SSL),
            Engine::MySql | Engine::MariaDb | Engine::AuroraMySql => Some(REQUIRE_SECURE_TRANSPORT),
            _ => None,
        }
    }
}

pub const FORCE_SSL: &str = "rds.force_ssl";
pub const REQUIRE_SECURE_TRANSPORT: &str = "require_secure_transport";

/// The leading numeric components of a version string (`16.3` → [16, 3],
/// `8.0.mysql_aurora.3.05.2` → [8, 0], `10.11.8` → [10, 11]).
fn version_numbers(v: &str) -> Vec<u32> {
    v.split('.').map_while(|p| p.parse().ok()).collect()
}

fn major_minor(v: &str) -> Option<(u32, u32)> {
    match version_numbers(v).as_slice() {
        [major, minor, ..] => Some((*major, *minor)),
        [major] => Some((*major, 0)),
        [] => None,
    }
}

/// A parameter value as a switch: `1`/`ON`/`TRUE` or `0`/`OFF`/`FALSE` (case-insensitive);
/// anything else (a formula, a typo) is not understood.
pub fn parse_switch(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "on" | "true" => Ok(true),
        "0" | "off" | "false" => Ok(false),
        other => Err(format!("value {other:?} is not 0/1/ON/OFF")),
    }
}

/// Whether the engine refuses unencrypted connections when its TLS parameter is left at the
/// engine default (the parameter group lists it without a value, or does not list it), per
/// the AWS documentation; Err when AWS does not document the default for this version.
pub fn engine_default(engine: Engine, version: &str) -> Result<bool, String> {
    let Some((major, minor)) = major_minor(version) else {
        return Err(format!("engine version {version:?} cannot be read, so the default of its TLS parameter is unknown"));
    };
    match engine {
        // AWS: rds.force_ssl defaults to 0 (off) for PostgreSQL versions before 15 and to 1 (on)
        // for PostgreSQL 15 and later major versions.
        // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/ssl-certificate-rotation-postgresql.html
        // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.SSL.html
        Engine::Postgres => Ok(major >= 15),
        // AWS: "By default, the rds.force_ssl parameter is set to 0 (off)." (Aurora PostgreSQL)
        // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/ssl-certificate-rotation-aurora-postgresql.html
        Engine::AuroraPostgres => Ok(false),
        // AWS: require_secure_transport defaults to 0 (OFF) for MySQL 8.4 and lower and to 1 (ON)
        // for MySQL 9.7; versions in between are not documented.
        // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/mysql-ssl-connections.require-ssl.html
        Engine::MySql if (major, minor) <= (8, 4) => Ok(false),
        Engine::MySql if (major, minor) >= (9, 7) => Ok(true),
        Engine::MySql => Err(format!("the default of require_secure_transport for MySQL {version} is not documented")),
        // AWS: require_secure_transport is supported from MariaDB 10.5 (earlier versions cannot
        // refuse plaintext); it defaults to OFF for 11.4 and lower and to ON for 11.8 and higher.
        // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/mariadb-ssl-connections.require-ssl.html
        Engine::MariaDb if (major, minor) <= (11, 4) => Ok(false),
        Engine::MariaDb if (major, minor) >= (11, 8) => Ok(true),
        Engine::MariaDb => Err(format!("the default of require_secure_transport for MariaDB {version} is not documented")),
        // Aurora MySQL takes require_secure_transport from the DB cluster parameter group, OFF by
        // default as in the MySQL versions it is compatible with (5.7, 8.0):
        // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Security.html
        // (Requiring a TLS connection to an Aurora MySQL DB cluster) and
        // https://dev.mysql.com/doc/refman/8.0/en/server-system-variables.html#sysvar_require_secure_transport
        Engine::AuroraMySql => Ok(false),
        Engine::SqlServer => Err(format!("tapaudit does not know the default of rds.force_ssl for SQL Server {version}")),
        Engine::Oracle | Engine::Db2 | Engine::NotRds(_) | Engine::Unrecognised => Err(format!("engine {engine:?} has no TLS parameter that tapaudit judges")),
    }
}

/// A TLS parameter as a parameter group lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed<'a> {
    /// With a value (set by the user, or the engine default's value).
    Value(&'a str),
    /// Listed without a value, or not listed at all: the engine's default applies.
    Default,
}

/// Whether a database refuses unencrypted connections, and why: from the parameter's value,
/// else the documented engine default. Err when neither tells.
pub fn requires_tls(engine: Engine, version: &str, listed: Listed) -> Result<(bool, String), String> {
    let Some(param) = engine.tls_parameter() else {
        return Err(format!("engine {engine:?} has no TLS parameter that tapaudit judges"));
    };
    match listed {
        Listed::Value(v) => parse_switch(v).map(|on| (on, format!("{param} = {v}"))).map_err(|e| format!("{param}: {e}")),
        Listed::Default => {
            let on = engine_default(engine, version)?;
            Ok((on, format!("{param} left at the engine default ({}) for version {version}", if on { "on" } else { "off" })))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines() {
        let cases = [
            ("postgres", Engine::Postgres),
            ("mysql", Engine::MySql),
            ("mariadb", Engine::MariaDb),
            ("aurora-postgresql", Engine::AuroraPostgres),
            ("aurora-mysql", Engine::AuroraMySql),
            ("aurora", Engine::AuroraMySql),
            ("sqlserver-se", Engine::SqlServer),
            ("oracle-ee", Engine::Oracle),
            ("db2-se", Engine::Db2),
            ("docdb", Engine::NotRds("Amazon DocumentDB")),
            ("neptune", Engine::NotRds("Amazon Neptune")),
            ("cassandra", Engine::Unrecognised),
            ("", Engine::Unrecognised),
        ];
        for (name, want) in cases {
            assert_eq!(Engine::from_name(name), want, "{name}");
        }
        assert_eq!(Engine::from_name("docdb").not_rds(), Some("Amazon DocumentDB"));
        assert_eq!(Engine::from_name("postgres").not_rds(), None);
        assert_eq!(Engine::Postgres.tls_parameter(), Some("rds.force_ssl"));
        assert_eq!(Engine::AuroraMySql.tls_parameter(), Some("require_secure_transport"));
        assert_eq!(Engine::Oracle.tls_parameter(), None);
    }

    #[test]
    fn switches() {
        for v in ["1", "ON", "on", "true", " 1 "] {
            assert_eq!(parse_switch(v), Ok(true), "{v}");
        }
        for v in ["0", "OFF", "off", "FALSE"] {
            assert_eq!(parse_switch(v), Ok(false), "{v}");
        }
        for v in ["", "2", "{TrueIfReplica}", "yes"] {
            assert!(parse_switch(v).is_err(), "{v}");
        }
    }

    /// The documented defaults, version by version.
    #[test]
    fn documented_defaults() {
        let cases: &[(Engine, &str, Result<bool, ()>)] = &[
            (Engine::Postgres, "11.22", Ok(false)),
            (Engine::Postgres, "14.12", Ok(false)),
            (Engine::Postgres, "15.2", Ok(true)),
            (Engine::Postgres, "16.3", Ok(true)),
            (Engine::Postgres, "17.1", Ok(true)),
            (Engine::AuroraPostgres, "16.4", Ok(false)),
            (Engine::AuroraPostgres, "13.9", Ok(false)),
            (Engine::MySql, "5.7.44", Ok(false)),
            (Engine::MySql, "8.0.39", Ok(false)),
            (Engine::MySql, "8.4.3", Ok(false)),
            (Engine::MySql, "9.1.0", Err(())),
            (Engine::MySql, "9.7.0", Ok(true)),
            (Engine::MariaDb, "10.4.34", Ok(false)),
            (Engine::MariaDb, "10.11.8", Ok(false)),
            (Engine::MariaDb, "11.4.3", Ok(false)),
            (Engine::MariaDb, "11.6.1", Err(())),
            (Engine::MariaDb, "11.8.1", Ok(true)),
            (Engine::AuroraMySql, "8.0.mysql_aurora.3.05.2", Ok(false)),
            (Engine::AuroraMySql, "5.7.mysql_aurora.2.11.2", Ok(false)),
            (Engine::SqlServer, "15.00.4415.2.v1", Err(())),
            (Engine::Oracle, "19.0.0.0.ru-2024-04.rur-2024-04.r1", Err(())),
            (Engine::Postgres, "", Err(())),
            (Engine::Postgres, "latest", Err(())),
        ];
        for (engine, version, want) in cases {
            assert_eq!(engine_default(*engine, version).map_err(|_| ()), *want, "{engine:?} {version}");
        }
    }

    #[test]
    fn value_wins_over_default() {
        // PostgreSQL 16 defaults to on, but an explicit 0 turns it off
        assert_eq!(requires_tls(Engine::Postgres, "16.3", Listed::Value("0")).map(|r| r.0), Ok(false));
        assert_eq!(requires_tls(Engine::Postgres, "16.3", Listed::Default).map(|r| r.0), Ok(true));
        // PostgreSQL 14 defaults to off
        assert_eq!(requires_tls(Engine::Postgres, "14.12", Listed::Default).map(|r| r.0), Ok(false));
        assert_eq!(requires_tls(Engine::Postgres, "14.12", Listed::Value("1")).map(|r| r.0), Ok(true));
        // MySQL: default off, ON/1 on
        assert_eq!(requires_tls(Engine::MySql, "8.0.39", Listed::Default).map(|r| r.0), Ok(false));
        assert_eq!(requires_tls(Engine::MySql, "8.0.39", Listed::Value("ON")).map(|r| r.0), Ok(true));
        // a value that cannot be read is unknown, whatever the default
        assert!(requires_tls(Engine::Postgres, "16.3", Listed::Value("maybe")).is_err());
        // an undocumented default is unknown
        assert!(requires_tls(Engine::MySql, "9.1.0", Listed::Default).is_err());
        // no TLS parameter for the engine
        assert!(requires_tls(Engine::Oracle, "19.0", Listed::Value("1")).is_err());
        let (_, why) = requires_tls(Engine::Postgres, "16.3", Listed::Default).unwrap();
        assert!(why.contains("engine default"), "{why}");
    }
}
