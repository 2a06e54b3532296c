//! The event's unit tests: both line formats on a full event, omission rules,
//! reading back, and the wire names of every vocabulary.

use std::collections::BTreeMap;

use super::*;

fn ts() -> Timestamp {
    Timestamp::from_wire("2024-03-05T12:38:09.007+05:30")
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn pairs(items: &[(&str, &str)]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// An event with every field set to a non-empty value.
fn full_event() -> PipelineEvent {
    let mut context_updates = BTreeMap::new();
    // Inserted out of order: both encoders must write map keys sorted.
    context_updates.insert("b".to_string(), "2".to_string());
    context_updates.insert("a".to_string(), "1".to_string());
    let mut provider_totals = BTreeMap::new();
    provider_totals.insert(
        "stub".to_string(),
        ProviderUsage {
            input_tokens: 100,
            output_tokens: 50,
            total_tokens: 150,
            cost_usd: 0.0,
            session_count: 1,
            estimated: true,
            ..ProviderUsage::default()
        },
    );
    PipelineEvent {
        provider: Some("anthropic".into()),
        model: Some("claude-sonnet-4-6".into()),
        tool_name: Some("bash".into()),
        content: Some("out".into()),
        cost: Some(CostSnapshot {
            total_tokens: Some(150),
            total_cost_usd: Some(0.25),
            provider_totals,
            wall_elapsed_ms: Some(1234),
            estimated: true,
        }),
        truncation: Some(Truncation {
            stream: Some("stdout".into()),
            limit: Some(65536),
            captured_bytes: Some(65536),
            dropped_bytes: Some(10),
            total_bytes: Some(65546),
        }),
        marker: Some(MarkerDetail {
            pattern: Some("^DONE$".into()),
            tail: Some("tail".into()),
            error: Some("bad regex".into()),
        }),
        route: Some(RouteDetail {
            tail: Some("rt".into()),
        }),
        auto_status: Some(AutoStatusDetail {
            tail: Some("as".into()),
            fail_closed: true,
        }),
        validation_override: Some(OverrideDetail {
            gate: Some("Gate".into()),
            label: Some("Override".into()),
            actor: Some(Actor::Human),
            subgraph_path: strings(&["Sub"]),
        }),
        capture: Capture {
            session_id: Some("s1".into()),
            parent_session_id: Some("s0".into()),
            turn_no: Some(-1),
            attempt_no: Some(2),
            node_kind: Some("codergen".into()),
            tool_input: Some(r#"{"cmd":"ls"}"#.into()),
            tool_duration_ms: Some(12),
            cache_read_tokens: Some(3),
            cache_write_tokens: Some(4),
            reasoning_tokens: Some(5),
            estimated_cost: Some(3.0),
            context_utilization: Some(0.125),
            tool_cache_hits: Some(6),
            tool_cache_misses: Some(7),
            turn_duration_ms: Some(890),
            call_id: Some("c1".into()),
            finish_reason: Some("stop".into()),
        },
        ..PipelineEvent::new(EventKind::DecisionCondition, EventSource::Pipeline, ts())
            .with_run_id("a1b2c3d4e5f6")
            .with_node_id("Check")
            .with_message("msg")
            .with_error("boom")
            .with_terminal_status("success")
            .with_bundle_identity("sha256:abc")
            .with_tokens(100, 50)
            .with_decision(Decision {
                edge_from: Some("Check".into()),
                edge_to: Some("Ship".into()),
                edge_condition: Some("outcome=success".into()),
                edge_priority: Some(EdgePriority::Condition),
                condition_match: true,
                outcome_status: Some("success".into()),
                context_snapshot: pairs(&[("outcome", "success"), ("preferred_label", "Yes")]),
                context_updates,
                restart_count: Some(2),
                cleared_nodes: strings(&["Ship", "Done"]),
                conditions_tried: vec![ConditionEval {
                    edge_to: "Retry".into(),
                    condition: "outcome=fail".into(),
                }],
            })
            .with_gate(GateDetail {
                gate_id: Some("g1".into()),
                mode: Some("interview".into()),
                label: Some("Approve?".into()),
                prompt: Some("Approve the plan?".into()),
                choices: strings(&["Yes", "No"]),
                questions: vec![
                    GateQuestion {
                        id: "q0".into(),
                        text: "Which?".into(),
                        options: strings(&["a", "b"]),
                        is_yes_no: false,
                    },
                    GateQuestion {
                        id: "q1".into(),
                        text: "Proceed?".into(),
                        options: Vec::new(),
                        is_yes_no: true,
                    },
                ],
                response: Some("Yes".into()),
                outcome: Some("success".into()),
                actor: Some(Actor::Autopilot),
                timed_out: true,
            })
            .with_snapshot(RunSnapshot {
                nodes: vec![
                    SnapshotNode {
                        id: "Done".into(),
                        label: None,
                        handler: Some("exit".into()),
                    },
                    SnapshotNode {
                        id: "Start".into(),
                        label: Some("Begin".into()),
                        handler: Some("start".into()),
                    },
                ],
                start_node: Some("Start".into()),
                exit_node: Some("Done".into()),
                current_node: Some("Ship".into()),
                completed_nodes: strings(&["Start"]),
            })
    }
}

// Written by hand from the spec's activity.jsonl order (engine-semantics §6).
const FULL_ACTIVITY: &str = concat!(
    r#"{"ts":"2024-03-05T12:38:09.007+05:30","source":"pipeline","type":"decision_condition","#,
    r#""run_id":"a1b2c3d4e5f6","node_id":"Check","message":"msg","error":"boom","#,
    r#""provider":"anthropic","model":"claude-sonnet-4-6","tool_name":"bash","content":"out","#,
    r#""bundle_identity":"sha256:abc","#,
    r#""edge_from":"Check","edge_to":"Ship","edge_condition":"outcome=success","#,
    r#""edge_priority":"condition","condition_match":true,"outcome_status":"success","#,
    r#""context_snapshot":{"outcome":"success","preferred_label":"Yes"},"#,
    r#""context_updates":{"a":"1","b":"2"},"restart_count":2,"cleared_nodes":["Ship","Done"],"#,
    r#""token_input":100,"token_output":50,"total_tokens":150,"total_cost_usd":0.25,"#,
    r#""provider_totals":{"stub":{"input_tokens":100,"output_tokens":50,"total_tokens":150,"#,
    r#""cost_usd":0,"reasoning_tokens":0,"cache_read_tokens":0,"cache_write_tokens":0,"#,
    r#""session_count":1,"estimated":true}},"wall_elapsed_ms":1234,"estimated":true,"#,
    r#""trunc_stream":"stdout","trunc_limit":65536,"trunc_captured_bytes":65536,"#,
    r#""trunc_dropped_bytes":10,"trunc_total_bytes":65546,"#,
    r#""conditions_tried":[{"edge_to":"Retry","condition":"outcome=fail"}],"#,
    r#""marker_pattern":"^DONE$","marker_tail":"tail","marker_error":"bad regex","#,
    r#""route_tail":"rt","auto_status_tail":"as","auto_status_fail_closed":true,"#,
    r#""override_gate":"Gate","override_label":"Override","override_actor":"human","#,
    r#""override_subgraph_path":["Sub"],"#,
    r#""gate_id":"g1","gate_mode":"interview","gate_label":"Approve?","#,
    r#""gate_prompt":"Approve the plan?","gate_choices":["Yes","No"],"#,
    r#""gate_questions":[{"id":"q0","text":"Which?","options":["a","b"]},"#,
    r#"{"id":"q1","text":"Proceed?","is_yes_no":true}],"#,
    r#""gate_response":"Yes","gate_outcome":"success","gate_actor":"autopilot","#,
    r#""gate_timed_out":true,"#,
    r#""session_id":"s1","parent_session_id":"s0","turn_no":-1,"attempt_no":2,"#,
    r#""node_kind":"codergen","tool_input":"{\"cmd\":\"ls\"}","tool_duration_ms":12,"#,
    r#""cache_read_tokens":3,"cache_write_tokens":4,"reasoning_tokens":5,"#,
    r#""estimated_cost":3,"context_utilization":0.125,"tool_cache_hits":6,"#,
    r#""tool_cache_misses":7,"turn_duration_ms":890,"call_id":"c1","finish_reason":"stop","#,
    r#""terminal_status":"success"}"#,
);

// Written by hand from the spec's --json order (engine-semantics §6,
// user-surface §4.2).
const FULL_NDJSON: &str = concat!(
    r#"{"ts":"2024-03-05T12:38:09.007+05:30","source":"pipeline","type":"decision_condition","#,
    r#""run_id":"a1b2c3d4e5f6","node_id":"Check","message":"msg","error":"boom","#,
    r#""provider":"anthropic","model":"claude-sonnet-4-6","tool_name":"bash","content":"out","#,
    r#""terminal_status":"success","bundle_identity":"sha256:abc","#,
    r#""edge_from":"Check","edge_to":"Ship","edge_condition":"outcome=success","#,
    r#""edge_priority":"condition","condition_match":true,"outcome_status":"success","#,
    r#""context_snapshot":{"outcome":"success","preferred_label":"Yes"},"#,
    r#""context_updates":{"a":"1","b":"2"},"restart_count":2,"cleared_nodes":["Ship","Done"],"#,
    r#""conditions_tried":[{"edge_to":"Retry","condition":"outcome=fail"}],"#,
    r#""token_input":100,"token_output":50,"total_tokens":150,"total_cost_usd":0.25,"#,
    r#""provider_totals":{"stub":{"input_tokens":100,"output_tokens":50,"total_tokens":150,"#,
    r#""cost_usd":0,"reasoning_tokens":0,"cache_read_tokens":0,"cache_write_tokens":0,"#,
    r#""session_count":1,"estimated":true}},"wall_elapsed_ms":1234,"estimated":true,"#,
    r#""trunc_stream":"stdout","trunc_limit":65536,"trunc_captured_bytes":65536,"#,
    r#""trunc_dropped_bytes":10,"trunc_total_bytes":65546,"#,
    r#""marker_pattern":"^DONE$","marker_tail":"tail","marker_error":"bad regex","#,
    r#""route_tail":"rt","auto_status_tail":"as","auto_status_fail_closed":true,"#,
    r#""override_gate":"Gate","override_label":"Override","override_actor":"human","#,
    r#""override_subgraph_path":["Sub"],"#,
    r#""gate_id":"g1","gate_mode":"interview","gate_label":"Approve?","#,
    r#""gate_prompt":"Approve the plan?","gate_choices":["Yes","No"],"#,
    r#""gate_questions":[{"id":"q0","text":"Which?","options":["a","b"]},"#,
    r#"{"id":"q1","text":"Proceed?","is_yes_no":true}],"#,
    r#""gate_response":"Yes","gate_outcome":"success","gate_actor":"autopilot","#,
    r#""gate_timed_out":true,"#,
    r#""session_id":"s1","parent_session_id":"s0","turn_no":-1,"attempt_no":2,"#,
    r#""node_kind":"codergen","tool_input":"{\"cmd\":\"ls\"}","tool_duration_ms":12,"#,
    r#""cache_read_tokens":3,"cache_write_tokens":4,"reasoning_tokens":5,"#,
    r#""estimated_cost":3,"context_utilization":0.125,"tool_cache_hits":6,"#,
    r#""tool_cache_misses":7,"turn_duration_ms":890,"call_id":"c1","finish_reason":"stop","#,
    r#""snapshot_nodes":[{"id":"Done","handler":"exit"},"#,
    r#"{"id":"Start","label":"Begin","handler":"start"}],"#,
    r#""snapshot_start_node":"Start","snapshot_exit_node":"Done","#,
    r#""snapshot_current_node":"Ship","snapshot_completed_nodes":["Start"]}"#,
);

#[test]
fn the_reference_kinds_plus_two_and_every_wire_name_round_trips() {
    let names = [
        "pipeline_started",
        "pipeline_completed",
        "pipeline_failed",
        "stage_started",
        "stage_completed",
        "stage_failed",
        "stage_retrying",
        "checkpoint_saved",
        "checkpoint_failed",
        "parallel_started",
        "parallel_completed",
        "manager_cycle_tick",
        "loop_restart",
        "warning",
        "edge_tiebreaker",
        "decision_edge",
        "decision_condition",
        "decision_outcome",
        "decision_restart",
        "cost_updated",
        "budget_exceeded",
        "billing_paused",
        "tool_output_truncated",
        "conditional_fallthrough",
        "node_cost_limit_exceeded",
        "node_no_progress_detected",
        "work_preserve_failed",
        "bundle_mismatch_forced",
        "tool_marker_missing",
        "tool_route_missing",
        "auto_status_missing",
        "validation_overridden",
        "gate_opened",
        "gate_resolved",
        "node_memo_replayed",
        "node_restarted",
        "supervisor_escalated",
        "session_start",
        "session_end",
        "llm_request_start",
        "llm_finish",
        "text_delta",
        "tool_call_start",
        "tool_call_end",
        "steering_injected",
        "context_compaction",
        "provider_failover",
    ];
    assert_eq!(names.len(), 47);
    assert_eq!(EventKind::ALL.len(), 47);
    let from_code: Vec<&str> = EventKind::ALL.iter().map(|k| k.wire_name()).collect();
    assert_eq!(from_code, names);
    for name in names {
        let kind = EventKind::from_wire_name(name).expect(name);
        assert_eq!(kind.wire_name(), name);
        assert_eq!(kind.to_string(), name);
    }
    let distinct: std::collections::HashSet<EventKind> = EventKind::ALL.into_iter().collect();
    assert_eq!(distinct.len(), 47);
    assert_eq!(EventKind::from_wire_name("Stage_Started"), None);
    assert_eq!(EventKind::from_wire_name("interview_started"), None);
}

#[test]
fn every_variant_of_every_vocabulary_round_trips_through_its_wire_name() {
    fn check<T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display>(
        all: &[T],
        name: fn(T) -> &'static str,
        parse: fn(&str) -> Option<T>,
    ) {
        let mut seen = std::collections::HashSet::new();
        for &variant in all {
            let wire = name(variant);
            assert!(seen.insert(wire), "{wire:?} named twice");
            assert_eq!(parse(wire), Some(variant), "{wire:?}");
            assert_eq!(variant.to_string(), wire);
        }
    }
    check(
        &EventKind::ALL,
        EventKind::wire_name,
        EventKind::from_wire_name,
    );
    check(
        &EventSource::ALL,
        EventSource::wire_name,
        EventSource::from_wire_name,
    );
    check(
        &EdgePriority::ALL,
        EdgePriority::wire_name,
        EdgePriority::from_wire_name,
    );
    check(&Actor::ALL, Actor::wire_name, Actor::from_wire_name);
    assert_eq!(
        (
            EventSource::ALL.len(),
            EdgePriority::ALL.len(),
            Actor::ALL.len()
        ),
        (4, 6, 4)
    );
}

#[test]
fn sources_priorities_and_actors_round_trip() {
    for name in ["pipeline", "agent", "llm", "cli"] {
        assert_eq!(
            EventSource::from_wire_name(name).map(EventSource::wire_name),
            Some(name)
        );
    }
    for name in [
        "condition",
        "label",
        "suggested",
        "weight",
        "lexical",
        "override",
    ] {
        assert_eq!(
            EdgePriority::from_wire_name(name).map(EdgePriority::wire_name),
            Some(name)
        );
    }
    for name in ["human", "autopilot", "webhook", "unknown"] {
        assert_eq!(
            Actor::from_wire_name(name).map(Actor::wire_name),
            Some(name)
        );
    }
    assert_eq!(EventSource::from_wire_name("engine"), None);
}

#[test]
fn activity_line_field_order_on_a_full_event() {
    assert_eq!(full_event().to_activity_line(), FULL_ACTIVITY);
}

#[test]
fn ndjson_line_field_order_on_a_full_event() {
    assert_eq!(full_event().to_ndjson_line(), FULL_NDJSON);
}

#[test]
fn activity_record_carries_the_sentinel_and_no_newline() {
    let record = full_event().to_activity_record();
    assert_eq!(record, format!("\u{1f}\u{1e}{FULL_ACTIVITY}"));
    assert!(!record.ends_with('\n'));
    assert_eq!(strip_activity_sentinel(&record), FULL_ACTIVITY);
    assert_eq!(strip_activity_sentinel(FULL_ACTIVITY), FULL_ACTIVITY);
}

#[test]
fn a_bare_event_writes_only_ts_source_and_type() {
    let event = PipelineEvent::new(
        EventKind::PipelineStarted,
        EventSource::Pipeline,
        Timestamp::from_wire("2024-03-05T07:08:09.007Z"),
    );
    let expected =
        r#"{"ts":"2024-03-05T07:08:09.007Z","source":"pipeline","type":"pipeline_started"}"#;
    assert_eq!(event.to_activity_line(), expected);
    assert_eq!(event.to_ndjson_line(), expected);
}

#[test]
fn empty_strings_zero_numbers_and_empty_groups_are_omitted() {
    let mut event = PipelineEvent::new(EventKind::CostUpdated, EventSource::Pipeline, ts())
        .with_run_id("")
        .with_tokens(0, 0)
        .with_cost(CostSnapshot::default())
        .with_gate(GateDetail::default())
        .with_snapshot(RunSnapshot::default())
        .with_decision(Decision {
            restart_count: Some(0),
            ..Decision::default()
        });
    event.capture.turn_no = Some(0);
    event.capture.estimated_cost = Some(0.0);
    let expected =
        r#"{"ts":"2024-03-05T12:38:09.007+05:30","source":"pipeline","type":"cost_updated"}"#;
    assert_eq!(event.to_activity_line(), expected);
    assert_eq!(event.to_ndjson_line(), expected);
}

#[test]
fn condition_match_false_is_written_when_edge_condition_is_set() {
    let event = PipelineEvent::new(EventKind::DecisionCondition, EventSource::Pipeline, ts())
        .with_node_id("Check")
        .with_decision(Decision {
            edge_from: Some("Check".into()),
            edge_to: Some("Retry".into()),
            edge_condition: Some("outcome=fail".into()),
            condition_match: false,
            ..Decision::default()
        });
    let expected = concat!(
        r#"{"ts":"2024-03-05T12:38:09.007+05:30","source":"pipeline","type":"decision_condition","#,
        r#""node_id":"Check","edge_from":"Check","edge_to":"Retry","edge_condition":"outcome=fail","#,
        r#""condition_match":false}"#,
    );
    assert_eq!(event.to_activity_line(), expected);
    assert_eq!(event.to_ndjson_line(), expected);
}

#[test]
fn condition_match_is_not_written_without_an_edge_condition() {
    let event = PipelineEvent::new(EventKind::DecisionEdge, EventSource::Pipeline, ts())
        .with_decision(Decision {
            edge_from: Some("A".into()),
            edge_to: Some("B".into()),
            edge_condition: Some(String::new()),
            edge_priority: Some(EdgePriority::Weight),
            condition_match: true,
            ..Decision::default()
        });
    let expected = concat!(
        r#"{"ts":"2024-03-05T12:38:09.007+05:30","source":"pipeline","type":"decision_edge","#,
        r#""edge_from":"A","edge_to":"B","edge_priority":"weight"}"#,
    );
    assert_eq!(event.to_activity_line(), expected);
}

#[test]
fn restart_count_is_written_only_when_positive() {
    let restart = |count| {
        PipelineEvent::new(EventKind::DecisionRestart, EventSource::Pipeline, ts())
            .with_decision(Decision {
                restart_count: count,
                cleared_nodes: strings(&["B"]),
                ..Decision::default()
            })
            .to_activity_line()
    };
    let head =
        r#"{"ts":"2024-03-05T12:38:09.007+05:30","source":"pipeline","type":"decision_restart","#;
    assert_eq!(restart(None), format!(r#"{head}"cleared_nodes":["B"]}}"#));
    assert_eq!(
        restart(Some(0)),
        format!(r#"{head}"cleared_nodes":["B"]}}"#)
    );
    assert_eq!(
        restart(Some(1)),
        format!(r#"{head}"restart_count":1,"cleared_nodes":["B"]}}"#)
    );
}

#[test]
fn ndjson_line_reads_back_to_the_same_event() {
    let event = full_event();
    let back = PipelineEvent::from_line(&event.to_ndjson_line()).expect("parses");
    assert_eq!(back, event);
}

#[test]
fn activity_record_reads_back_to_the_event_without_its_snapshot() {
    let event = full_event();
    let expected = PipelineEvent {
        snapshot: None,
        ..event.clone()
    };
    let from_record = PipelineEvent::from_line(&event.to_activity_record()).expect("parses");
    assert_eq!(from_record, expected);
    let from_copy = PipelineEvent::from_line(&event.to_activity_line()).expect("parses");
    assert_eq!(from_copy, expected);
}

#[test]
fn reading_back_canonicalises_empty_values_and_tolerates_extras() {
    let line = concat!(
        "\u{1f}\u{1e}",
        r#"{"ts":"2024-03-05T07:08:09.007Z","source":"cli","type":"bundle_mismatch_forced","#,
        r#""run_id":"","restart_count":0,"edge_condition":"x","future_key":{"nested":[1]},"#,
        r#""gate_actor":null}"#,
        "\n",
    );
    let event = PipelineEvent::from_line(line).expect("parses");
    assert_eq!(event.source, EventSource::Cli);
    assert_eq!(event.kind, EventKind::BundleMismatchForced);
    assert_eq!(event.run_id, None);
    assert_eq!(event.gate, None);
    let decision = event.decision.expect("decision group present");
    assert_eq!(decision.edge_condition.as_deref(), Some("x"));
    assert_eq!(decision.restart_count, None);
    assert!(!decision.condition_match);
}

#[test]
fn reading_back_rejects_foreign_or_malformed_lines() {
    let agent = r#"{"ts":"t","source":"agent","type":"llm_reasoning","content":"hi"}"#;
    match PipelineEvent::from_line(agent) {
        Err(EventParseError::UnknownType {
            event_source,
            type_name,
        }) => {
            assert_eq!(event_source, EventSource::Agent);
            assert_eq!(type_name, "llm_reasoning");
        }
        other => panic!("expected UnknownType, got {other:?}"),
    }
    let source = r#"{"ts":"t","source":"engine","type":"warning"}"#;
    assert!(matches!(
        PipelineEvent::from_line(source),
        Err(EventParseError::UnknownSource(s)) if s == "engine"
    ));
    let priority =
        r#"{"ts":"t","source":"pipeline","type":"decision_edge","edge_priority":"random"}"#;
    assert!(matches!(
        PipelineEvent::from_line(priority),
        Err(EventParseError::UnknownEdgePriority(p)) if p == "random"
    ));
    let actor = r#"{"ts":"t","source":"pipeline","type":"gate_resolved","gate_actor":"robot"}"#;
    assert!(matches!(
        PipelineEvent::from_line(actor),
        Err(EventParseError::UnknownActor(a)) if a == "robot"
    ));
    let missing_ts = r#"{"source":"pipeline","type":"warning"}"#;
    assert!(matches!(
        PipelineEvent::from_line(missing_ts),
        Err(EventParseError::Json(_))
    ));
    assert!(matches!(
        PipelineEvent::from_line("not json"),
        Err(EventParseError::Json(_))
    ));
}
