//! Figures 10 to 14 (many subscribers in one process, from `many.*` keys)
//! and the cost model that compares Lambda Managed Instances, on-demand
//! Lambda and AppSync Events per 1,000 subscriber-hours (`cost.*` keys, set
//! in the "cost model inputs" step of `scripts/bench.sh`).
//!
//! As in `derive()`: a derived key whose inputs are missing is left unset,
//! and the report prints "n/a" for it.

use std::collections::BTreeMap;

type Values = BTreeMap<String, String>;

fn num(v: &Values, k: &str) -> Option<f64> {
    v.get(k).and_then(|s| s.parse::<f64>().ok())
}

fn set(v: &mut Values, k: &str, s: String) {
    v.insert(k.to_owned(), s);
}

fn verdict(ok: bool) -> String {
    if ok { "met" } else { "**missed**" }.to_owned()
}

/// Dollars: two decimals from $1, four below (AppSync's cents matter).
fn dollars(x: f64) -> String {
    if x.abs() >= 1.0 {
        format!("${x:.2}")
    } else {
        format!("${x:.4}")
    }
}

/// Most subscribers the break-even search looks at.
const BREAK_EVEN_LIMIT: u64 = 1_000_000;

/// Everything the cost model needs, prices and measured rates alike.
#[derive(Clone, Debug, PartialEq)]
struct Model {
    /// Lambda duration, arm64, $ per GB-second.
    arm64_gbs_price: f64,
    /// On-demand Lambda memory per subscriber, MB.
    on_demand_memory_mb: f64,
    /// On-demand Lambda requests, $ per million.
    request_price_per_million: f64,
    /// Lambda Managed Instances requests, $ per million.
    lmi_request_price_per_million: f64,
    /// Management fee, as a fraction of the EC2 on-demand price (0.15).
    lmi_fee: f64,
    /// EC2 on-demand price of the instance type, $ per hour.
    ec2_hourly: f64,
    /// vCPUs of that instance type.
    ec2_vcpus: f64,
    /// vCPUs of one execution environment.
    env_vcpus: f64,
    /// Environments Lambda keeps running however few the subscribers.
    min_environments: u64,
    /// DynamoDB strongly consistent reads, $ per million.
    read_price_per_million: f64,
    /// Responses (invocations) per subscriber-hour: 3600 s / the window.
    reconnects_per_hour: f64,
    /// Reads a minute of one subscriber polling alone (on-demand).
    one_reads_per_minute: f64,
    /// Reads a minute of one shared tail of one stream (one process).
    stream_reads_per_minute: f64,
    /// Subscribers per stream in the modelled population.
    subscribers_per_stream: f64,
    /// AppSync Events operations, $ per million.
    appsync_operation_price_per_million: f64,
    /// AppSync Events connection-minutes, $ per million.
    appsync_connection_minute_price_per_million: f64,
    /// Events delivered per subscriber-minute (AppSync comparison).
    appsync_events_per_minute: f64,
}

/// Parts of an hourly bill, $.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Bill {
    compute: f64,
    requests: f64,
    reads: f64,
}

impl Bill {
    fn total(&self) -> f64 {
        self.compute + self.requests + self.reads
    }

    /// The same bill per 1,000 subscriber-hours, for `n` subscribers.
    fn per_1000(&self, n: u64) -> Bill {
        let k = 1000.0 / n.max(1) as f64;
        Bill {
            compute: self.compute * k,
            requests: self.requests * k,
            reads: self.reads * k,
        }
    }
}

impl Model {
    fn from_values(v: &Values) -> Option<Self> {
        let idle_streams = num(v, "many.idle.streams")?;
        let idle_subscribers = num(v, "many.idle.subscribers")?;
        if idle_streams <= 0.0 || idle_subscribers <= 0.0 {
            return None;
        }
        Some(Self {
            arm64_gbs_price: num(v, "cost.arm64_gbs_price")?,
            on_demand_memory_mb: num(v, "cost.on_demand_memory_mb").unwrap_or(128.0),
            request_price_per_million: num(v, "cost.request_price_per_million")?,
            lmi_request_price_per_million: num(v, "cost.lmi_request_price_per_million")?,
            lmi_fee: num(v, "cost.lmi_fee")?,
            ec2_hourly: num(v, "cost.ec2_hourly")?,
            ec2_vcpus: num(v, "cost.ec2_vcpus")?,
            env_vcpus: num(v, "cost.lmi_env_vcpus")?,
            min_environments: num(v, "cost.lmi_min_environments")? as u64,
            read_price_per_million: num(v, "cost.read_price_per_million")?,
            reconnects_per_hour: num(v, "cost.reconnects_per_hour")?,
            one_reads_per_minute: num(v, "many.one.reads_per_minute")?,
            stream_reads_per_minute: num(v, "many.idle.reads_per_minute")? / idle_streams,
            subscribers_per_stream: idle_subscribers / idle_streams,
            appsync_operation_price_per_million: num(
                v,
                "cost.appsync_operation_price_per_million",
            )?,
            appsync_connection_minute_price_per_million: num(
                v,
                "cost.appsync_connection_minute_price_per_million",
            )?,
            appsync_events_per_minute: num(v, "cost.appsync_events_per_minute")?,
        })
    }

    /// One vCPU-hour on Managed Instances: the instance's share plus the fee.
    fn vcpu_hour(&self) -> f64 {
        self.ec2_hourly / self.ec2_vcpus * (1.0 + self.lmi_fee)
    }

    /// Execution environments for `n` concurrent subscribers.
    fn environments(&self, n: u64, concurrency: u64) -> u64 {
        self.min_environments.max(n.div_ceil(concurrency.max(1)))
    }

    /// On-demand Lambda, `n` subscribers, one hour: each holds a 128 MB
    /// arm64 invocation all the time, reconnects once a window, and polls
    /// its stream alone.
    fn on_demand_hour(&self, n: u64) -> Bill {
        let n = n as f64;
        Bill {
            compute: n * 3600.0 * self.on_demand_memory_mb / 1024.0 * self.arm64_gbs_price,
            requests: n * self.reconnects_per_hour * self.request_price_per_million / 1e6,
            reads: n * self.one_reads_per_minute * 60.0 * self.read_price_per_million / 1e6,
        }
    }

    /// Shared tails for `n` subscribers over `environments`: streams of
    /// `subscribers_per_stream` each, every stream read once in each
    /// environment that holds one of its subscribers, and its subscribers
    /// assumed spread over as many environments as there are (at most one
    /// environment per subscriber): the upper bound.
    fn tails(&self, n: u64, environments: u64) -> f64 {
        let streams = (n as f64 / self.subscribers_per_stream).ceil();
        streams * (environments as f64).min(self.subscribers_per_stream.ceil())
    }

    /// Lambda Managed Instances, `n` subscribers, one hour.
    fn lmi_hour(&self, n: u64, concurrency: u64) -> Bill {
        let environments = self.environments(n, concurrency);
        Bill {
            compute: environments as f64 * self.env_vcpus * self.vcpu_hour(),
            requests: n as f64 * self.reconnects_per_hour * self.lmi_request_price_per_million
                / 1e6,
            reads: self.tails(n, environments)
                * self.stream_reads_per_minute
                * 60.0
                * self.read_price_per_million
                / 1e6,
        }
    }

    /// AppSync Events, `n` subscribers, one hour: connection-minutes and
    /// one operation per event delivered. No Lambda, no DynamoDB.
    fn appsync_hour(&self, n: u64) -> Bill {
        let n = n as f64;
        Bill {
            compute: n * 60.0 * self.appsync_connection_minute_price_per_million / 1e6,
            requests: n
                * self.appsync_events_per_minute
                * 60.0
                * self.appsync_operation_price_per_million
                / 1e6,
            reads: 0.0,
        }
    }

    /// The smallest `n` from which Managed Instances cost less per hour
    /// than on-demand Lambda for every count up to `BREAK_EVEN_LIMIT`;
    /// `None` if they still do not at that count.
    fn break_even(&self, concurrency: u64) -> Option<u64> {
        let mut last_not_cheaper = 0;
        for n in 1..=BREAK_EVEN_LIMIT {
            if self.lmi_hour(n, concurrency).total() >= self.on_demand_hour(n).total() {
                last_not_cheaper = n;
            }
        }
        (last_not_cheaper < BREAK_EVEN_LIMIT).then_some(last_not_cheaper + 1)
    }
}

impl Model {
    /// The smallest `n` from which Managed Instances cost less per hour
    /// than AppSync Events for every count up to `BREAK_EVEN_LIMIT`, when
    /// all `n` subscribers follow one stream (a job's progress, a shared
    /// dashboard): its readers are then at most one per environment.
    fn meets_appsync_on_one_stream(&self, concurrency: u64) -> Option<u64> {
        let mut last_not_cheaper = 0;
        for n in 1..=BREAK_EVEN_LIMIT {
            let one_stream = Model {
                subscribers_per_stream: n as f64,
                ..self.clone()
            };
            if one_stream.lmi_hour(n, concurrency).total() >= self.appsync_hour(n).total() {
                last_not_cheaper = n;
            }
        }
        (last_not_cheaper < BREAK_EVEN_LIMIT).then_some(last_not_cheaper + 1)
    }
}

/// Figures 10 to 14 and the cost model. Called at the end of `derive()`.
pub fn derive_many(v: &mut Values) {
    figures(v);
    cost_model(v);
}

fn figures(v: &mut Values) {
    let subscribers = num(v, "many.idle.subscribers");
    let streams = num(v, "many.idle.streams");

    // 10. Peak RSS with 1,000 open streams, against one stream per process.
    if let Some(kib) = num(v, "many.idle.rss_kib") {
        set(v, "fig10.function_mib", format!("{:.1} MiB", kib / 1024.0));
        // The target is 64 MB (decimal), stricter than 64 MiB.
        set(v, "fig10.verdict", verdict(kib * 1024.0 < 64e6));
        if let Some(one) = num(v, "many.one.rss_kib") {
            set(v, "fig10.baseline_mib", format!("{:.1} MiB", one / 1024.0));
            set(v, "fig10.ratio", format!("{:.2}x", kib / one.max(1.0)));
            if let Some(n) = subscribers.filter(|&n| n > 1.0) {
                set(
                    v,
                    "fig10.kib_per_stream",
                    format!("{:.1} KiB", (kib - one) / (n - 1.0)),
                );
            }
        }
    }

    // 11. CPU per idle stream-hour, against one stream per process.
    let idle_cpu = num(v, "many.idle.cpu_s_per_stream_hour");
    let one_cpu = num(v, "many.one.cpu_s_per_stream_hour");
    if let Some(f) = idle_cpu {
        set(v, "fig11.function", format!("{f:.4} s"));
    }
    if let Some(b) = one_cpu {
        set(v, "fig11.baseline", format!("{b:.4} s"));
    }
    if let (Some(f), Some(b)) = (idle_cpu, one_cpu.filter(|&b| b > 0.0)) {
        set(v, "fig11.ratio", format!("{:.3}x", f / b));
    }
    if let (Some(ms), Some(secs)) = (
        num(v, "many.idle.cpu_ms"),
        num(v, "many.idle.seconds").filter(|&s| s > 0.0),
    ) {
        // Share of one vCPU the idle process used.
        set(
            v,
            "fig11.cpu_percent",
            format!("{:.2} %", ms / (secs * 1000.0) * 100.0),
        );
    }

    // 12. Latency of 1,000 subscribers of one stream, against one.
    if let (Some(p99), Some(lost)) = (num(v, "many.shared.p99"), num(v, "many.shared.lost")) {
        set(v, "fig12.verdict", verdict(p99 < 100.0 && lost == 0.0));
        if let Some(b) = num(v, "many.single.p99") {
            set(v, "fig12.ratio", format!("{:.2}x", p99 / b.max(0.001)));
        }
    }

    // 13. Reads of 1,000 subscribers of one stream, against one.
    if let (Some(f), Some(b)) = (
        num(v, "many.shared.reads_per_minute"),
        num(v, "many.single.reads_per_minute").filter(|&b| b > 0.0),
    ) {
        set(v, "fig13.ratio", format!("{:.2}x", f / b));
        set(v, "fig13.verdict", verdict(f / b <= 1.25));
    }

    // 14. Reads of 1,000 subscribers over `streams` streams, against one
    // subscriber of one stream: at most `streams` x 1.25.
    if let (Some(f), Some(b), Some(s)) = (
        num(v, "many.idle.reads_per_minute"),
        num(v, "many.one.reads_per_minute").filter(|&b| b > 0.0),
        streams.filter(|&s| s > 0.0),
    ) {
        let ratio = f / b;
        set(v, "fig14.ratio", format!("{ratio:.1}x"));
        set(v, "fig14.per_stream_ratio", format!("{:.2}x", ratio / s));
        set(v, "fig14.limit", format!("{:.0}x", s * 1.25));
        set(v, "fig14.verdict", verdict(ratio <= s * 1.25));
    }
}

fn cost_model(v: &mut Values) {
    let Some(model) = Model::from_values(v) else {
        return;
    };
    let Some(n) = num(v, "many.idle.subscribers").map(|n| n as u64) else {
        return;
    };
    set(v, "cost.many.subscribers", n.to_string());
    // A reader polling once a second, against an idle AppSync connection.
    set(
        v,
        "cost.read_hour",
        format!("${:.5}", 3600.0 * model.read_price_per_million / 1e6),
    );
    set(
        v,
        "cost.appsync_connection_hour",
        format!(
            "${:.7}",
            60.0 * model.appsync_connection_minute_price_per_million / 1e6
        ),
    );
    set(
        v,
        "cost.many.subscribers_per_stream",
        format!("{:.0}", model.subscribers_per_stream),
    );
    set(
        v,
        "cost.many.stream_reads_per_minute",
        format!("{:.1}", model.stream_reads_per_minute),
    );
    set(
        v,
        "cost.lmi.fee_percent",
        format!("{:.0} %", model.lmi_fee * 100.0),
    );
    set(
        v,
        "cost.lmi.vcpu_hour",
        format!("${:.5}", model.vcpu_hour()),
    );
    set(
        v,
        "cost.lmi.floor_hour",
        dollars(model.min_environments as f64 * model.env_vcpus * model.vcpu_hour()),
    );

    let put_bill = |v: &mut Values, prefix: &str, bill: Bill| {
        set(v, &format!("{prefix}.compute"), dollars(bill.compute));
        set(v, &format!("{prefix}.requests"), dollars(bill.requests));
        set(v, &format!("{prefix}.reads"), dollars(bill.reads));
        set(v, &format!("{prefix}.total"), dollars(bill.total()));
    };

    let on_demand = model.on_demand_hour(n).per_1000(n);
    put_bill(v, "cost.od", on_demand);
    let appsync = model.appsync_hour(n).per_1000(n);
    put_bill(v, "cost.appsync", appsync);
    set(
        v,
        "cost.appsync.ratio_od",
        format!("{:.3}x", appsync.total() / on_demand.total()),
    );

    for (name, key) in [
        ("default", "cost.lmi_concurrency"),
        ("high", "cost.lmi_concurrency_high"),
    ] {
        let Some(concurrency) = num(v, key).map(|c| c as u64).filter(|&c| c > 0) else {
            continue;
        };
        let prefix = format!("cost.lmi.{name}");
        let bill = model.lmi_hour(n, concurrency).per_1000(n);
        put_bill(v, &prefix, bill);
        let environments = model.environments(n, concurrency);
        set(v, &format!("{prefix}.concurrency"), concurrency.to_string());
        set(
            v,
            &format!("{prefix}.environments"),
            environments.to_string(),
        );
        set(
            v,
            &format!("{prefix}.tails"),
            format!("{:.0}", model.tails(n, environments)),
        );
        set(
            v,
            &format!("{prefix}.ratio_od"),
            format!("{:.3}x", bill.total() / on_demand.total()),
        );
        set(
            v,
            &format!("{prefix}.break_even"),
            model.break_even(concurrency).map_or_else(
                || format!("none up to {BREAK_EVEN_LIMIT}"),
                |b| b.to_string(),
            ),
        );
        set(
            v,
            &format!("{prefix}.meets_appsync_one_stream"),
            model.meets_appsync_on_one_stream(concurrency).map_or_else(
                || format!("none up to {BREAK_EVEN_LIMIT}"),
                |b| b.to_string(),
            ),
        );
        // What one environment would hold at this concurrency, from this
        // run's figures: memory (one stream's process plus the measured
        // cost of each further stream) and CPU while idle.
        if let (Some(one), Some(idle), true) = (
            num(v, "many.one.rss_kib"),
            num(v, "many.idle.rss_kib"),
            n > 1,
        ) {
            let per_stream = (idle - one) / (n as f64 - 1.0);
            let kib = one + per_stream * (concurrency as f64 - 1.0);
            set(
                v,
                &format!("{prefix}.rss_mib"),
                format!("{:.1} MiB", kib / 1024.0),
            );
        }
        if let Some(cpu) = num(v, "many.idle.cpu_s_per_stream_hour") {
            set(
                v,
                &format!("{prefix}.cpu_percent"),
                format!("{:.2} %", cpu * concurrency as f64 / 3600.0 * 100.0),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Round numbers, so that every expected value is worked out by hand.
    fn model() -> Model {
        Model {
            arm64_gbs_price: 0.00001,
            on_demand_memory_mb: 128.0,
            request_price_per_million: 0.20,
            lmi_request_price_per_million: 0.20,
            lmi_fee: 0.15,
            ec2_hourly: 0.08,
            ec2_vcpus: 2.0,
            env_vcpus: 1.0,
            min_environments: 3,
            read_price_per_million: 0.125,
            reconnects_per_hour: 30.0,
            one_reads_per_minute: 60.0,
            stream_reads_per_minute: 60.0,
            subscribers_per_stream: 10.0,
            appsync_operation_price_per_million: 1.0,
            appsync_connection_minute_price_per_million: 0.08,
            appsync_events_per_minute: 1.0,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn on_demand_per_subscriber_hour() {
        // 3600 s x 0.125 GB = 450 GB-s x $0.00001 = $0.0045;
        // 30 requests x $0.2/M = $0.000006; 3600 reads x $0.125/M = $0.00045.
        let bill = model().on_demand_hour(1);
        assert!(close(bill.compute, 0.0045));
        assert!(close(bill.requests, 0.000006));
        assert!(close(bill.reads, 0.00045));
        assert!(close(bill.per_1000(1).total(), 4.956));
    }

    #[test]
    fn managed_instances_at_1000_subscribers() {
        let m = model();
        // vCPU-hour: 0.08 / 2 x 1.15 = 0.046.
        assert!(close(m.vcpu_hour(), 0.046));
        // Concurrency 64: ceil(1000 / 64) = 16 environments; 100 streams of
        // 10 subscribers, each read in min(16, 10) = 10 environments.
        assert_eq!(m.environments(1000, 64), 16);
        let bill = m.lmi_hour(1000, 64);
        assert!(close(bill.compute, 16.0 * 0.046));
        assert!(close(bill.requests, 1000.0 * 30.0 * 0.2 / 1e6));
        assert!(close(bill.reads, 1000.0 * 60.0 * 60.0 * 0.125 / 1e6));
        // Concurrency 1000: the minimum of 3 environments, 300 tails.
        assert_eq!(m.environments(1000, 1000), 3);
        let bill = m.lmi_hour(1000, 1000);
        assert!(close(bill.compute, 0.138));
        assert!(close(bill.reads, 300.0 * 3600.0 * 0.125 / 1e6));
        // 0.138 + 0.006 + 0.135 per 1000 subscriber-hours.
        assert!(close(bill.per_1000(1000).total(), 0.279));
    }

    #[test]
    fn appsync_per_1000_subscriber_hours() {
        // 60,000 connection-minutes x $0.08/M + 60,000 operations x $1/M.
        let bill = model().appsync_hour(1000).per_1000(1000);
        assert!(close(bill.compute, 0.0048));
        assert!(close(bill.requests, 0.06));
        assert!(close(bill.total(), 0.0648));
    }

    #[test]
    fn against_appsync_one_stream_wins_past_the_last_crossing() {
        // Concurrency 1000, one stream: up to 3,000 subscribers the bill is
        // 3 x $0.046 + 3 readers x $0.00045 + n x $0.000006, against
        // n x $0.0000648: cheaper from n = 2370. At 3,001 a fourth
        // environment ($0.046) tips it back; 0.1858 < 0.0000588 n again
        // from 3,160, and every later environment costs less than the
        // 1,000 subscribers that bring it.
        let m = model();
        assert_eq!(m.meets_appsync_on_one_stream(1000), Some(3160));
        let one = |n: u64| Model {
            subscribers_per_stream: n as f64,
            ..m.clone()
        };
        assert!(one(3159).lmi_hour(3159, 1000).total() >= m.appsync_hour(3159).total());
        assert!(one(3160).lmi_hour(3160, 1000).total() < m.appsync_hour(3160).total());
        // At 64 an environment holds too few to pay for itself.
        assert_eq!(m.meets_appsync_on_one_stream(64), None);
    }

    #[test]
    fn break_even_is_the_smallest_count() {
        let m = model();
        // Below 3 x 64 subscribers: 3 environments, $0.138 an hour, plus
        // per subscriber $0.000006 of requests and 3 tails per 10-subscriber
        // stream: ceil(n / 10) x 3 x 3600 x $0.125/M = ceil(n / 10) x
        // $0.00135. On-demand: n x $0.004956.
        // n = 30: 0.138 + 0.00018 + 0.00405 = 0.14223 >= 0.14868? No: cheaper.
        // n = 29: 0.138 + 0.000174 + 0.00405 = 0.142224 >= 0.143724? No.
        // n = 28: 0.138 + 0.000168 + 0.00405 = 0.142218 >= 0.138768: yes.
        let lmi = |n| m.lmi_hour(n, 64).total();
        let od = |n| m.on_demand_hour(n).total();
        assert!(lmi(28) >= od(28));
        assert!(lmi(29) < od(29));
        assert_eq!(m.break_even(64), Some(29));
        // The minimum of 3 environments is what counts here: concurrency
        // 1000 breaks even at the same count.
        assert_eq!(m.break_even(1000), Some(29));
    }

    #[test]
    fn break_even_none_when_instances_cost_more_per_subscriber() {
        // One subscriber per environment at $46 a vCPU-hour: never cheaper.
        let mut m = model();
        m.ec2_hourly = 80.0;
        assert_eq!(m.break_even(1), None);
    }

    fn values(pairs: &[(&str, &str)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn measured() -> Values {
        values(&[
            ("many.idle.subscribers", "1000"),
            ("many.idle.streams", "100"),
            ("many.idle.rss_kib", "30720"),
            ("many.idle.cpu_ms", "360"),
            ("many.idle.seconds", "36"),
            ("many.idle.reads_per_minute", "6000"),
            ("many.idle.cpu_s_per_stream_hour", "0.036"),
            ("many.one.rss_kib", "8192"),
            ("many.one.reads_per_minute", "60"),
            ("many.one.cpu_s_per_stream_hour", "0.36"),
            ("many.shared.p99", "40"),
            ("many.shared.lost", "0"),
            ("many.shared.reads_per_minute", "70"),
            ("many.single.p99", "20"),
            ("many.single.reads_per_minute", "60"),
            ("cost.arm64_gbs_price", "0.00001"),
            ("cost.request_price_per_million", "0.20"),
            ("cost.lmi_request_price_per_million", "0.20"),
            ("cost.lmi_fee", "0.15"),
            ("cost.ec2_hourly", "0.08"),
            ("cost.ec2_vcpus", "2"),
            ("cost.lmi_env_vcpus", "1"),
            ("cost.lmi_min_environments", "3"),
            ("cost.lmi_concurrency", "64"),
            ("cost.lmi_concurrency_high", "1000"),
            ("cost.read_price_per_million", "0.125"),
            ("cost.reconnects_per_hour", "30"),
            ("cost.appsync_operation_price_per_million", "1.00"),
            ("cost.appsync_connection_minute_price_per_million", "0.08"),
            ("cost.appsync_events_per_minute", "1"),
        ])
    }

    #[test]
    fn figures_and_costs_from_the_results() {
        let mut v = measured();
        derive_many(&mut v);
        let get = |k: &str| v.get(k).map(String::as_str);
        assert_eq!(get("fig10.function_mib"), Some("30.0 MiB"));
        assert_eq!(get("fig10.baseline_mib"), Some("8.0 MiB"));
        // (30720 - 8192) / 999 KiB per further stream.
        assert_eq!(get("fig10.kib_per_stream"), Some("22.6 KiB"));
        assert_eq!(get("fig10.verdict"), Some("met"));
        assert_eq!(get("fig11.ratio"), Some("0.100x"));
        assert_eq!(get("fig11.cpu_percent"), Some("1.00 %"));
        assert_eq!(get("fig12.verdict"), Some("met"));
        assert_eq!(get("fig12.ratio"), Some("2.00x"));
        assert_eq!(get("fig13.ratio"), Some("1.17x"));
        assert_eq!(get("fig13.verdict"), Some("met"));
        assert_eq!(get("fig14.ratio"), Some("100.0x"));
        assert_eq!(get("fig14.verdict"), Some("met"));
        assert_eq!(get("cost.od.total"), Some("$4.96"));
        assert_eq!(get("cost.lmi.high.total"), Some("$0.2790"));
        assert_eq!(get("cost.lmi.default.environments"), Some("16"));
        assert_eq!(get("cost.lmi.default.break_even"), Some("29"));
        assert_eq!(get("cost.appsync.total"), Some("$0.0648"));
        assert_eq!(get("cost.lmi.floor_hour"), Some("$0.1380"));
    }

    #[test]
    fn verdicts_flip_when_targets_are_missed() {
        let mut v = measured();
        v.insert("many.idle.rss_kib".into(), (65 * 1024).to_string());
        v.insert("many.shared.lost".into(), "1".into());
        v.insert("many.shared.reads_per_minute".into(), "76".into());
        v.insert("many.idle.reads_per_minute".into(), "7560".into());
        derive_many(&mut v);
        assert_eq!(v["fig10.verdict"], "**missed**");
        assert_eq!(v["fig12.verdict"], "**missed**");
        assert_eq!(v["fig13.verdict"], "**missed**");
        assert_eq!(v["fig14.verdict"], "**missed**");

        let mut v = measured();
        v.insert("many.shared.p99".into(), "100".into());
        derive_many(&mut v);
        assert_eq!(v["fig12.verdict"], "**missed**");
    }

    #[test]
    fn missing_keys_leave_derived_keys_unset() {
        let mut v = values(&[("many.idle.rss_kib", "30720")]);
        derive_many(&mut v);
        assert_eq!(v["fig10.verdict"], "met");
        assert!(!v.contains_key("fig10.ratio"));
        assert!(!v.contains_key("cost.od.total"));
        assert!(!v.contains_key("fig14.verdict"));
    }
}
