//! What the load test sends: a weighted mix of feed views, photo pages,
//! logins and uploads (`--mix feed=80,photo=15,login=3,upload=2`).

use rand::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// GET / (the front page, the feed).
    Feed,
    /// GET /photos/{id} (a photo's page).
    Photo,
    /// GET /login, then POST /login with the test user.
    Login,
    /// GET /upload, then POST /upload with a small PNG.
    Upload,
    /// GET of the one path given with `--path` (not part of a `--mix`).
    Get,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Feed, Kind::Photo, Kind::Login, Kind::Upload];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Feed => "feed",
            Kind::Photo => "photo",
            Kind::Login => "login",
            Kind::Upload => "upload",
            Kind::Get => "get",
        }
    }
}

/// Weights of each kind; they need not add up to 100.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    weights: Vec<(Kind, u32)>,
    total: u32,
}

impl Mix {
    /// Every request of one kind.
    pub fn single(kind: Kind) -> Self {
        Self {
            weights: vec![(kind, 1)],
            total: 1,
        }
    }

    pub fn includes(&self, kind: Kind) -> bool {
        self.weights.iter().any(|(k, w)| *k == kind && *w > 0)
    }

    /// A kind drawn by weight.
    pub fn pick(&self, rng: &mut impl Rng) -> Kind {
        let mut ticket = rng.gen_range(0..self.total);
        for (kind, weight) in &self.weights {
            if ticket < *weight {
                return *kind;
            }
            ticket -= weight;
        }
        self.weights[0].0
    }
}

impl Default for Mix {
    fn default() -> Self {
        "feed=80,photo=15,login=3,upload=2"
            .parse()
            .expect("a valid default")
    }
}

impl std::str::FromStr for Mix {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let mut weights = Vec::new();
        for part in text.split(',').filter(|p| !p.trim().is_empty()) {
            let (name, weight) = part.split_once('=').ok_or_else(|| {
                format!("{part:?} is not KIND=WEIGHT; use e.g. feed=80,photo=15,login=3,upload=2")
            })?;
            let kind = Kind::ALL
                .into_iter()
                .find(|k| k.name() == name.trim())
                .ok_or_else(|| {
                    format!("unknown request kind {name:?}; choose from feed, photo, login, upload")
                })?;
            let weight: u32 = weight.trim().parse().map_err(|_| {
                format!("the weight of {name} must be a whole number, not {weight:?}")
            })?;
            weights.push((kind, weight));
        }
        let total = weights.iter().map(|(_, w)| w).sum();
        if total == 0 {
            return Err(
                "the mix needs at least one kind with a weight above 0, e.g. feed=1".into(),
            );
        }
        Ok(Self { weights, total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mix_is_parsed_and_drawn_by_weight() {
        let mix: Mix = "feed=3, upload=1".parse().unwrap();
        assert!(mix.includes(Kind::Upload) && !mix.includes(Kind::Login));
        let mut rng = rand::thread_rng();
        let uploads = (0..4000)
            .filter(|_| mix.pick(&mut rng) == Kind::Upload)
            .count();
        assert!((800..1200).contains(&uploads), "about a quarter: {uploads}");
    }

    #[test]
    fn bad_mixes_say_what_is_wrong() {
        assert!("feed".parse::<Mix>().unwrap_err().contains("KIND=WEIGHT"));
        assert!("feeds=1"
            .parse::<Mix>()
            .unwrap_err()
            .contains("unknown request kind"));
        assert!("feed=x"
            .parse::<Mix>()
            .unwrap_err()
            .contains("whole number"));
        assert!("feed=0".parse::<Mix>().unwrap_err().contains("above 0"));
    }
}
