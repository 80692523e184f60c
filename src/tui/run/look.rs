//! What the interface takes from the configuration: strings, keys, colours, and where each
//! call's sound comes from.

use tokio::sync::mpsc;

use super::News;
use crate::client::call::media::AudioSetup;
use crate::client::call::switchboard::AudioFactory;
use crate::media::audio::{AudioSink, AudioSource, NullSink, Silence};
use crate::settings::{self, AudioConfig, ConfigFile, Overrides};
use crate::tui::i18n::Strings;
use crate::tui::keymap::Keymap;
use crate::tui::theme::Theme;

/// Minutes without a key before the interface sets the user away, unless configured.
const DEFAULT_AWAY_MINUTES: u32 = 10;

/// Everything the interface needs from the config: strings, keys, colours, sound.
pub struct Look {
    pub strings: Strings,
    pub keymap: Keymap,
    pub theme: Theme,
    pub audio: AudioConfig,
    /// Away after this long without a key (none: never).
    pub away_after: Option<std::time::Duration>,
    /// Problems found loading the user's files (shown once, defaults kept).
    pub problems: Vec<String>,
}

impl Look {
    pub fn from_config(overrides: &Overrides, file: &ConfigFile) -> Look {
        let (path, _) = settings::config_path(overrides);
        let mut problems = Vec::new();
        let keymap_file = settings::user_file(path.as_deref(), "keymap.toml");
        let (keymap, p) = Keymap::load(
            file.keymap.as_deref().unwrap_or("default"),
            keymap_file.as_deref(),
        );
        problems.extend(p.map(|e| e.to_string()));
        let theme_file = settings::user_file(path.as_deref(), "theme.toml");
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let (theme, p) = Theme::load(
            file.theme.as_deref().unwrap_or("dark"),
            theme_file.as_deref(),
            no_color,
        );
        problems.extend(p.map(|e| e.to_string()));
        Look {
            strings: Strings::choose(file.language.as_deref()),
            keymap,
            theme,
            audio: file.audio.clone(),
            away_after: match file.away_after_minutes.unwrap_or(DEFAULT_AWAY_MINUTES) {
                0 => None,
                m => Some(std::time::Duration::from_secs(u64::from(m) * 60)),
            },
            problems,
        }
    }
}

/// A microphone, a speaker, and the sound card's dropout counters when it is one.
pub(super) type Audio = (
    Box<dyn AudioSource>,
    Box<dyn AudioSink>,
    Option<std::sync::Arc<crate::media::device::DeviceCounters>>,
);

/// A microphone and speaker from the config: the sound card (silence when there is none,
/// and the interface is told) or silence.
pub(super) fn open_audio(audio: &AudioConfig, news: &mpsc::UnboundedSender<News>) -> Audio {
    if audio.backend != "device" {
        return (Box::new(Silence), Box::new(NullSink), None);
    }
    match crate::media::device::open(audio.input.as_deref(), audio.output.as_deref()) {
        Ok((source, sink, _description, counters)) => {
            (Box::new(source), Box::new(sink), Some(counters))
        }
        Err(e) => {
            let _ = news.send(News::AudioNotice {
                code: e.code().to_owned(),
                message: e.to_string(),
            });
            (Box::new(Silence), Box::new(NullSink), None)
        }
    }
}

/// Audio for each call from the config (see [`open_audio`]).
pub(super) fn audio_factory(
    audio: AudioConfig,
    bind: String,
    news: mpsc::UnboundedSender<News>,
) -> AudioFactory {
    Box::new(move || {
        let (source, sink, device) = open_audio(&audio, &news);
        AudioSetup {
            source,
            sink,
            ring: audio.ring,
            device,
            peer: crate::media::peer::PeerOptions {
                dscp: audio.dscp_mark(),
                ..crate::media::peer::PeerOptions::default()
            },
            ..AudioSetup::silent(&bind)
        }
    })
}
