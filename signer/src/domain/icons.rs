//! The icons that bind the partner's page to the app: the partner shows one, the app shows
//! four in random order, and the person must pick the same one.

use crate::ids::{random_below, RandomError};

/// Every icon name; short, distinct, easy to draw and to say.
pub const ICONS: &[&str] = &[
    "anchor", "apple", "bell", "bicycle", "bird", "boat", "book", "cat", "clock", "cloud", "dog",
    "fish", "flower", "guitar", "hat", "heart", "house", "key", "leaf", "moon", "mountain", "star",
    "sun", "tree", "umbrella",
];

/// How many icons the app shows.
pub const CHOICES: usize = 4;

/// A random icon for a new action.
///
/// # Errors
/// [`RandomError`].
pub fn pick() -> Result<&'static str, RandomError> {
    let i = random_below(ICONS.len() as u32)? as usize;
    Ok(ICONS.get(i).copied().unwrap_or("star"))
}

/// The app's choice: `icon` and three other distinct icons, shuffled.
///
/// # Errors
/// [`RandomError`].
pub fn choices(icon: &str) -> Result<Vec<String>, RandomError> {
    let mut pool: Vec<&str> = ICONS.iter().copied().filter(|i| *i != icon).collect();
    let mut out = vec![icon.to_string()];
    while out.len() < CHOICES && !pool.is_empty() {
        let i = random_below(pool.len() as u32)? as usize;
        out.push(pool.swap_remove(i).to_string());
    }
    // Fisher-Yates
    for i in (1..out.len()).rev() {
        let j = random_below(i as u32 + 1)? as usize;
        out.swap(i, j);
    }
    Ok(out)
}

/// Whether `name` is a known icon.
pub fn is_icon(name: &str) -> bool {
    ICONS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_distinct_including_the_icon() {
        for _ in 0..50 {
            let icon = pick().unwrap();
            let c = choices(icon).unwrap();
            assert_eq!(c.len(), CHOICES);
            assert!(c.iter().any(|i| i == icon));
            let mut d = c.clone();
            d.sort();
            d.dedup();
            assert_eq!(d.len(), CHOICES);
            assert!(c.iter().all(|i| is_icon(i)));
        }
    }

    #[test]
    fn icon_position_varies() {
        let positions: std::collections::HashSet<usize> = (0..100)
            .map(|_| {
                choices("cat")
                    .unwrap()
                    .iter()
                    .position(|i| i == "cat")
                    .unwrap()
            })
            .collect();
        assert!(positions.len() > 1);
    }
}
