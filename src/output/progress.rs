//! The progress spinner: a line on stderr that shows only when reading the files lasts
//! longer than a moment, and leaves nothing behind.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A spinner on stderr that shows only if the work lasts longer than a moment.
pub(crate) struct Spinner {
    shared: Option<Arc<(Mutex<bool>, ProgressBar)>>,
}

impl Spinner {
    const DELAY: Duration = Duration::from_millis(300);

    /// A spinner that will show after a moment if `enabled`, else nothing.
    pub(crate) fn start(enabled: bool) -> Spinner {
        if !enabled {
            return Spinner { shared: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{spinner} armfix: reading files ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let shared = Arc::new((Mutex::new(false), bar));
        let late = shared.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Self::DELAY);
            let (done, bar) = &*late;
            let done = done.lock().unwrap_or_else(|p| p.into_inner());
            if !*done {
                bar.set_draw_target(ProgressDrawTarget::stderr());
                bar.enable_steady_tick(Duration::from_millis(100));
            }
        });
        Spinner {
            shared: Some(shared),
        }
    }

    /// Stops the spinner (or keeps it from ever showing) and clears its line.
    pub(crate) fn stop(self) {
        if let Some(shared) = self.shared {
            let (done, bar) = &*shared;
            let mut done = done.lock().unwrap_or_else(|p| p.into_inner());
            *done = true;
            bar.finish_and_clear();
        }
    }
}
