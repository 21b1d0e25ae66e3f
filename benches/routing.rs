//! Routing figures: decisions per second of the engine for 10,000 waiting tickets over
//! 1,000 agents with groups and skills (per model), and the Zendesk calls one real run
//! makes per 1,000 assignments against a fake Zendesk on loopback.
//! Run: `cargo bench --bench routing` (numbers on stdout). The same figures are part of
//! `cargo bench --bench slackdesk`'s report.
//!
//! Targets (issue 5): all 10,000 decided in under one second of CPU; at most 15 write
//! calls per 1,000 assignments.

#[path = "common/routing.rs"]
mod routing_figures;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    slackdesk::startup::install_crypto_provider();
    println!(
        "## Engine: {} waiting tickets, {} agents (10 groups, 20 skills)\n",
        routing_figures::TICKETS,
        routing_figures::AGENTS
    );
    println!("| model | assigned | left waiting | best of 5 | median | decisions/s |");
    println!("|---|---|---|---|---|---|");
    for f in routing_figures::engine_figures() {
        println!(
            "| {} | {} | {} | {:.1} ms | {:.1} ms | {:.0} |",
            f.model, f.assigned, f.left_waiting, f.best_ms, f.median_ms, f.decisions_per_sec
        );
    }
    let dir = tempfile::tempdir()?;
    let db = format!("sqlite://{}", dir.path().join("bench.db").display());
    let calls = routing_figures::call_figures(&db).await?;
    println!("\n## One run: 1000 tickets over 50 agents against a fake Zendesk (SQLite)\n");
    println!("| Zendesk calls per 1,000 assignments | count |");
    println!("|---|---|");
    println!(
        "| writes (`update_many`) | {:.0} |",
        calls.update_many_per_1000
    );
    println!(
        "| fresh reads before writing (`show_many`) | {:.0} |",
        calls.show_many_per_1000
    );
    println!("| job status polls | {:.0} |", calls.job_polls_per_1000);
    println!("| view reads | {:.0} |", calls.view_reads_per_1000);
    println!(
        "| exports (open tickets seed, inbox counts, skills) | {:.0} |",
        calls.exports_per_1000
    );
    println!("\nrun took {:.0} ms wall", calls.run_ms);
    let w = &calls.watch;
    println!(
        "\n## Reassignment watch 16 minutes later: {} watched, {} moved (no reply in 15 min; half answered)\n",
        w.watched, w.moved
    );
    println!("| Zendesk calls per 1,000 watched assignments | count |");
    println!("|---|---|");
    println!(
        "| comment reads (who replied) | {:.0} |",
        w.comment_reads_per_1000
    );
    println!(
        "| tickets by id (`show_many`) | {:.0} |",
        w.show_many_per_1000
    );
    println!(
        "| writes (`update_many`: hand back, assign again) | {:.0} |",
        w.update_many_per_1000
    );
    println!("| job status polls | {:.0} |", w.job_polls_per_1000);
    println!("| all | {:.0} |", w.total_per_1000);
    println!("\nwatch pass took {:.0} ms wall", w.pass_ms);
    Ok(())
}
