//! `aci-cmk emulator` in the foreground: the exports other clients need, files that another
//! `aci-cmk` reaches it with (`--emulator-url`), the client secret never printed, and Ctrl-C
//! as its normal stop (exit 0).

use crate::support::{Run, WorkDir, assert_no_secret, command_in, interrupt};
use std::{
    io::{BufRead, BufReader},
    process::Stdio,
};

#[test]
fn the_emulator_prints_its_exports_serves_other_commands_and_stops_on_ctrl_c() {
    let dir = WorkDir::new("emulator");
    let args = [
        "emulator",
        "--port",
        "0",
        "--state-dir",
        "state",
        "--output",
        "json",
    ];
    let mut child = command_in(&dir.0, &args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the emulator starts");
    // The document comes before it serves: read it up to its closing brace.
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut printed = String::new();
    loop {
        let mut line = String::new();
        let read = stdout.read_line(&mut line).expect("stdout reads");
        assert!(
            read > 0,
            "the emulator ended before its document: {printed}"
        );
        printed.push_str(&line);
        if line == "}\n" {
            break;
        }
    }
    let document: serde_json::Value = serde_json::from_str(&printed).expect("one JSON document");
    let result = &document["result"];
    let ca = result["ca_cert_pem_path"].as_str().expect("a CA");
    for name in [
        "REQUESTS_CA_BUNDLE",
        "SSL_CERT_FILE",
        "NODE_EXTRA_CA_CERTS",
        "CURL_CA_BUNDLE",
    ] {
        assert_eq!(result["exports"][name], ca, "{name}: {printed}");
    }
    assert_eq!(result["exports"]["AZURE_CORE_INSTANCE_DISCOVERY"], "false");
    assert!(
        result["exports"].get("AZURE_CLIENT_SECRET").is_none(),
        "{printed}"
    );
    let ready = result["ready_file"]
        .as_str()
        .expect("a ready file")
        .to_owned();
    assert_eq!(result["exports"]["ACI_CMK_EMULATOR_URL"], ready.as_str());
    let env =
        std::fs::read_to_string(result["env_file"].as_str().expect("env.sh")).expect("env.sh");
    assert!(
        env.contains(
            "az cloud register --name AciCmkEmulator --endpoint-resource-manager https://localhost:"
        ),
        "{env}"
    );
    assert!(env.contains("export AZURE_CLIENT_SECRET=\"$(cat "), "{env}");
    let secret = std::fs::read_to_string(
        result["client_secret_file"]
            .as_str()
            .expect("a secret file"),
    )
    .expect("the secret file");

    // Another aci-cmk reaches it through the ready file.
    let mut runs = vec![
        dir.run(&["init", "spec.toml", "--emulator-url", &ready])
            .exits(0),
    ];
    runs.push(
        dir.run(&[
            "plan",
            "spec.toml",
            "--emulator-url",
            &ready,
            "--detailed-exitcode",
        ])
        .exits(2),
    );

    interrupt(child.id());
    let output = child.wait_with_output().expect("the emulator stops");
    let mut stopped = Run::new(&args, output).exits(0);
    stopped.stdout = printed;
    runs.push(stopped);
    assert_no_secret(&runs, &[secret.trim()]);
    assert!(!env.contains(secret.trim()), "env.sh holds no secret");
}
