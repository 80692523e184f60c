//! parla's answers to offers written by WebRTC stacks nobody here wrote: offers aiortc made
//! (captured from aiortc 1.16 in `tests/fixtures/sdp/`) and the offer shape Chromium sends
//! (Opus, RED, G.722, G.711, CN, telephone-event at 48 and 8 kHz). Each test is a regression
//! test for one of the offer/answer fixes parla carries on top of rtc 0.21
//! (`vendor/rtc/PATCHES.md`): answer direction, DTLS role, session version, payload types,
//! format parameters, telephone-event at 8 kHz, rejection when no codec is usable.

use std::time::Duration;

use parla::media::peer::{AudioPeer, MediaState, PeerOptions};
use parla::media::sdp::{audio_direction, Direction, EventTypes};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/sdp/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut sdp = String::new();
    for line in text.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
        sdp.push_str(line);
        sdp.push_str("\r\n");
    }
    sdp
}

/// `sdp` with its audio direction replaced by `dir`.
fn with_direction(sdp: &str, dir: Direction) -> String {
    sdp.replace("a=sendrecv\r\n", &format!("a={}\r\n", dir.as_str()))
        .replace("a=sendonly\r\n", &format!("a={}\r\n", dir.as_str()))
        .replace("a=inactive\r\n", &format!("a={}\r\n", dir.as_str()))
}

async fn peer() -> AudioPeer {
    AudioPeer::new("127.0.0.1:0", &[], None, PeerOptions::default())
        .await
        .unwrap()
        .0
}

/// The audio m-line of an SDP: port and formats.
fn m_line(sdp: &str) -> (u16, Vec<u8>) {
    let line = sdp
        .lines()
        .find(|l| l.starts_with("m=audio"))
        .expect("no audio section");
    let mut words = line.split_whitespace().skip(1);
    let port = words.next().unwrap().parse().unwrap();
    let formats = words.skip(1).map(|f| f.parse().unwrap()).collect();
    (port, formats)
}

fn attribute<'a>(sdp: &'a str, name: &str) -> Vec<&'a str> {
    let prefix = format!("a={name}:");
    sdp.lines()
        .filter_map(|l| l.strip_prefix(prefix.as_str()))
        .collect()
}

/// The session version of the `o=` line.
fn session_version(sdp: &str) -> u64 {
    let o = sdp.lines().find(|l| l.starts_with("o=")).unwrap();
    o.split_whitespace().nth(2).unwrap().parse().unwrap()
}

#[tokio::test]
async fn answers_follow_the_direction_of_each_offer_in_turn() {
    let offer = fixture("aiortc-sendrecv.sdp");
    let p = peer().await;
    // The same peer through a hold with music, a hold without, and back: RFC 3264 §6.1.
    for (offered, answered) in [
        (Direction::SendRecv, Direction::SendRecv),
        (Direction::SendOnly, Direction::RecvOnly),
        (Direction::SendRecv, Direction::SendRecv),
        (Direction::Inactive, Direction::Inactive),
        (Direction::SendRecv, Direction::SendRecv),
        (Direction::RecvOnly, Direction::SendOnly),
        (Direction::SendRecv, Direction::SendRecv),
    ] {
        let answer = p.answer(with_direction(&offer, offered)).await.unwrap();
        assert_eq!(
            audio_direction(&answer),
            answered,
            "answer to a {offered:?} offer:\n{answer}"
        );
    }
    p.close().await;
}

#[tokio::test]
async fn aiortc_holds_are_answered_as_holds() {
    for (name, answered) in [
        ("aiortc-sendonly.sdp", Direction::RecvOnly),
        ("aiortc-inactive.sdp", Direction::Inactive),
    ] {
        let p = peer().await;
        let answer = p.answer(fixture(name)).await.unwrap();
        assert_eq!(audio_direction(&answer), answered, "{name}:\n{answer}");
        p.close().await;
    }
}

#[tokio::test]
async fn the_session_version_goes_up_by_one_with_each_description() {
    let offer = fixture("aiortc-sendrecv.sdp");
    let p = peer().await;
    let mut versions = Vec::new();
    let mut ids = Vec::new();
    for dir in [
        Direction::SendRecv,
        Direction::SendOnly,
        Direction::SendRecv,
    ] {
        let answer = p.answer(with_direction(&offer, dir)).await.unwrap();
        versions.push(session_version(&answer));
        let o = answer.lines().find(|l| l.starts_with("o=")).unwrap();
        ids.push(o.split_whitespace().nth(1).unwrap().to_owned());
    }
    p.set_direction(true).await.unwrap();
    versions.push(session_version(&p.offer().await.unwrap()));
    assert!(
        versions.windows(2).all(|w| w[1] == w[0] + 1),
        "{versions:?}"
    );
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "one session id: {ids:?}"
    );
    p.close().await;
}

#[tokio::test]
async fn a_chromium_offer_gets_each_payload_type_once_with_parlas_own_opus_parameters() {
    let p = peer().await;
    let answer = p.answer(fixture("chromium-offer.sdp")).await.unwrap();
    let (port, formats) = m_line(&answer);
    assert_ne!(port, 0);
    let mut unique = formats.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        formats.len(),
        "a payload type twice: {answer}"
    );
    let rtpmaps = attribute(&answer, "rtpmap");
    let mut pts: Vec<&str> = rtpmaps
        .iter()
        .map(|m| m.split_whitespace().next().unwrap())
        .collect();
    pts.sort_unstable();
    let n = pts.len();
    pts.dedup();
    assert_eq!(pts.len(), n, "an rtpmap line twice: {answer}");
    // The offer's payload types, Opus first.
    assert_eq!(formats.first(), Some(&111), "{answer}");
    assert!(rtpmaps.contains(&"110 telephone-event/48000"), "{answer}");
    assert!(rtpmaps.contains(&"126 telephone-event/8000"), "{answer}");
    assert!(
        attribute(&answer, "fmtp").contains(&"111 minptime=10;useinbandfec=1"),
        "{answer}"
    );
    assert_eq!(
        EventTypes::of(&answer),
        EventTypes {
            wide: Some(110),
            narrow: Some(126)
        }
    );
    p.close().await;
}

#[tokio::test]
async fn opus_parameters_are_parlas_even_when_the_offer_has_none() {
    // aiortc offers Opus without any fmtp line.
    let p = peer().await;
    let answer = p.answer(fixture("aiortc-sendrecv.sdp")).await.unwrap();
    assert!(
        attribute(&answer, "fmtp").contains(&"96 minptime=10;useinbandfec=1"),
        "{answer}"
    );
    p.close().await;
}

#[tokio::test]
async fn telephone_event_at_8khz_alone_is_accepted_and_used() {
    // A gateway-style offer: Opus, and telephone-event at 8 kHz only.
    let offer = fixture("chromium-offer.sdp")
        .replace(
            "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111 126",
        )
        .replace("a=rtpmap:110 telephone-event/48000\r\n", "");
    let p = peer().await;
    let answer = p.answer(offer).await.unwrap();
    assert_eq!(m_line(&answer).1, vec![111, 126], "{answer}");
    assert!(p.takes_events().await);
    assert_eq!(p.event_payload_types().await.sending(), Some((126, 8_000)));
    p.close().await;
}

#[tokio::test]
async fn an_offer_without_a_usable_codec_is_answered_with_the_audio_rejected() {
    // G.722 only: nothing parla can decode.
    let offer = fixture("aiortc-sendrecv.sdp")
        .replace("UDP/TLS/RTP/SAVPF 96 9 0 8", "UDP/TLS/RTP/SAVPF 9")
        .replace("a=rtpmap:96 opus/48000/2\r\n", "")
        .replace("a=rtpmap:0 PCMU/8000\r\n", "")
        .replace("a=rtpmap:8 PCMA/8000\r\n", "");
    let p = peer().await;
    let answer = p.answer(offer).await.unwrap();
    assert_eq!(m_line(&answer).0, 0, "the audio is rejected: {answer}");
    assert_eq!(audio_direction(&answer), Direction::Inactive);
    p.close().await;
}

/// Two parla peers: the first offers (`actpass`), the second answers `active` and so is
/// the DTLS client. Every later description keeps those roles, whoever offers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dtls_role_stays_as_the_first_exchange_set_it() {
    let (a, mut a_cands) = {
        let p = peer().await;
        let c = p.take_candidates().unwrap();
        (p, c)
    };
    let (b, mut b_cands) = {
        let p = peer().await;
        let c = p.take_candidates().unwrap();
        (p, c)
    };
    let offer = a.offer().await.unwrap();
    assert_eq!(attribute(&offer, "setup"), vec!["actpass"]);
    let answer = b.answer(offer).await.unwrap();
    assert_eq!(attribute(&answer, "setup"), vec!["active"]);
    a.accept_answer(answer).await.unwrap();
    // Trickled candidates, if any, each way.
    for _ in 0..2 {
        while let Ok(Some(Some(parla::proto::Signal::Candidate {
            candidate,
            sdp_mid,
            sdp_mline_index,
        }))) = tokio::time::timeout(Duration::from_millis(50), a_cands.recv()).await
        {
            b.add_candidate(candidate, sdp_mid, sdp_mline_index)
                .await
                .unwrap();
        }
        while let Ok(Some(Some(parla::proto::Signal::Candidate {
            candidate,
            sdp_mid,
            sdp_mline_index,
        }))) = tokio::time::timeout(Duration::from_millis(50), b_cands.recv()).await
        {
            a.add_candidate(candidate, sdp_mid, sdp_mline_index)
                .await
                .unwrap();
        }
    }
    for p in [&a, &b] {
        let mut state = p.state();
        tokio::time::timeout(
            Duration::from_secs(20),
            state.wait_for(|s| *s == MediaState::Connected),
        )
        .await
        .expect("the two peers never connected")
        .unwrap();
    }
    // The answerer re-offers (hold): it stays the client, the offerer the server.
    b.set_direction(true).await.unwrap();
    let reoffer = b.offer().await.unwrap();
    assert_eq!(attribute(&reoffer, "setup"), vec!["active"], "{reoffer}");
    let reanswer = a.answer(reoffer).await.unwrap();
    assert_eq!(attribute(&reanswer, "setup"), vec!["passive"], "{reanswer}");
    assert_eq!(audio_direction(&reanswer), Direction::RecvOnly);
    b.accept_answer(reanswer).await.unwrap();
    // And the first offerer's next offer says what it is now.
    let again = a.offer().await.unwrap();
    assert_eq!(attribute(&again, "setup"), vec!["passive"], "{again}");
    let answer = b.answer(again).await.unwrap();
    assert_eq!(attribute(&answer, "setup"), vec!["active"], "{answer}");
    assert_eq!(
        audio_direction(&answer),
        Direction::SendOnly,
        "b still holds"
    );
    a.close().await;
    b.close().await;
}

/// parla holding parla (the side that answered first) and resuming: the answer to the
/// resuming offer is `sendrecv` again.
#[tokio::test]
async fn a_hold_by_the_answerer_and_its_resume_are_answered_in_turn() {
    let (b, a) = (peer().await, peer().await);
    let answer = a.answer(b.offer().await.unwrap()).await.unwrap();
    b.accept_answer(answer).await.unwrap();
    for (hold, offered, answered) in [
        (true, Direction::SendOnly, Direction::RecvOnly),
        (false, Direction::SendRecv, Direction::SendRecv),
    ] {
        a.set_direction(hold).await.unwrap();
        let offer = a.offer().await.unwrap();
        assert_eq!(audio_direction(&offer), offered, "{offer}");
        let answer = b.answer(offer).await.unwrap();
        assert_eq!(audio_direction(&answer), answered, "{answer}");
        a.accept_answer(answer).await.unwrap();
    }
    a.close().await;
    b.close().await;
}

/// A re-offer that renumbers Opus (aiortc's move from the 111 parla offered to its own 96)
/// is answered with the new number, and audio goes out with it.
#[tokio::test]
async fn a_renumbering_reoffer_moves_the_payload_types() {
    let p = peer().await;
    let first = p.answer(fixture("chromium-offer.sdp")).await.unwrap();
    assert_eq!(m_line(&first).1.first(), Some(&111));
    assert_eq!(p.negotiated_payload_type().await.unwrap(), 111);
    let renumbered = fixture("chromium-offer.sdp")
        .replace(" 111 63 9 0 8 13 110 126", " 96 63 9 0 8 13 110 126")
        .replace("a=rtpmap:111 ", "a=rtpmap:96 ")
        .replace("a=fmtp:111 ", "a=fmtp:96 ")
        .replace("a=rtcp-fb:111 ", "a=rtcp-fb:96 ")
        .replace("a=fmtp:63 111/111", "a=fmtp:63 96/96")
        .replace("o=- 6230984179331402721 2 ", "o=- 6230984179331402721 3 ");
    let second = p.answer(renumbered).await.unwrap();
    assert_eq!(m_line(&second).1.first(), Some(&96), "{second}");
    assert!(!m_line(&second).1.contains(&111), "{second}");
    assert_eq!(p.negotiated_payload_type().await.unwrap(), 96);
    p.close().await;
}
