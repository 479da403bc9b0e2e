/*!
Which training series validate a run, as indices into the training file: a stratified choice
(classification: each class gives its share, `stratified`, or `auto::val_quota` of itself,
`stratified_auto`), a fixed random one (regression, `random_split`), the file's last ones
(`val_split = "ordered"`, `ordered`) or whole groups (`val_split = "group"`, `grouped`). Every choice is drawn
from a constant seed, so it is the same for every run and every seed of the sweep.
*/
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::auto;

/// A deterministic stratified validation split of `val_size` examples: each class gives its
/// share (largest remainders first, ties to the smaller class index), picked by a fixed
/// shuffle within the class. Returns (train, validation) indices, each in file order.
pub fn stratified(
    y: &[i64],
    classes: &[String],
    val_size: usize,
) -> Result<(Vec<i64>, Vec<i64>), String> {
    let n = y.len();
    let members = class_members(y, classes.len());
    let mut quota: Vec<usize> = members.iter().map(|m| m.len() * val_size / n).collect();
    let mut rest: Vec<usize> = (0..classes.len()).collect();
    // Largest remainder m * v mod n first; equal remainders: smaller index first (stable sort).
    rest.sort_by_key(|&c| std::cmp::Reverse(members[c].len() * val_size % n));
    let mut left = val_size - quota.iter().sum::<usize>();
    // A class keeps at least one training example.
    for c in rest {
        if left > 0 && quota[c] + 1 < members[c].len() {
            quota[c] += 1;
            left -= 1;
        }
    }
    let smallest = (0..classes.len()).min_by_key(|&c| members[c].len());
    if let Some(c) = smallest.filter(|_| left > 0) {
        return Err(format!(
            "leaves class {:?} ({} examples) without a training example: expected a smaller \
             val_size (the training file has {n} examples)",
            classes[c],
            members[c].len()
        ));
    }
    Ok(split_by_quota(&members, &quota, n))
}

/// A fixed random split of `n` examples: (training, validation) indices in ascending order,
/// `val` of them for validation, drawn from a constant seed (the same for every run).
pub fn random_split(n: usize, val: usize) -> (Vec<i64>, Vec<i64>) {
    let mut order: Vec<i64> = (0..n as i64).collect();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(0x5eed));
    let (mut v, mut t) = (order[..val].to_vec(), order[val..].to_vec());
    v.sort_unstable();
    t.sort_unstable();
    (t, v)
}

/// The time-ordered split of `val_split = "ordered"`: the last `val` of `y`'s examples
/// validate, the others train (each in file order). Classification (`classes` not empty): an
/// error naming a class that would keep no training example.
pub fn ordered(y: &[i64], classes: &[String], val: usize) -> Result<(Vec<i64>, Vec<i64>), String> {
    let n = y.len();
    let cut = n - val.min(n);
    if let Some(c) = (0..classes.len()).find(|&c| !y[..cut].contains(&(c as i64))) {
        return Err(format!(
            "leaves class {:?} without a training example: its series are all among the last \
             {val} of the file; expected a smaller val_size, or val_split = \"auto\"",
            classes[c]
        ));
    }
    Ok(((0..cut as i64).collect(), (cut as i64..n as i64).collect()))
}

/// The grouped split of `val_split = "group"`: whole groups validate, drawn in a fixed random
/// order (the same for every run) until at least `val` examples do, so that no group is on
/// both sides. Classification (`classes` not empty): an error naming a class that would keep
/// no training example. Returns (train, validation) indices, each in file order.
pub fn grouped(
    groups: &[String],
    y: &[i64],
    classes: &[String],
    val: usize,
) -> Result<(Vec<i64>, Vec<i64>), String> {
    let mut names: Vec<&String> = groups.iter().collect();
    names.sort();
    names.dedup();
    if names.len() < 2 {
        return Err(format!(
            "needs at least two groups: the training file has {} ({:?})",
            names.len(),
            names.first().map_or("", |s| s.as_str())
        ));
    }
    names.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(0x6e0));
    let mut chosen: Vec<&String> = Vec::new();
    let mut count = 0;
    for g in &names[..names.len() - 1] {
        if count >= val.max(1) {
            break;
        }
        count += groups.iter().filter(|x| x == g).count();
        chosen.push(g);
    }
    let (mut train, mut valid) = (Vec::new(), Vec::new());
    for (i, g) in groups.iter().enumerate() {
        match chosen.contains(&g) {
            true => valid.push(i as i64),
            false => train.push(i as i64),
        }
    }
    if let Some(c) = (0..classes.len()).find(|&c| !train.iter().any(|&i| y[i as usize] == c as i64))
    {
        return Err(format!(
            "leaves class {:?} without a training example: all its series are in the \
             validation groups; expected a smaller val_size",
            classes[c]
        ));
    }
    Ok((train, valid))
}

/// The stratified split of `val_size = "auto"`: each class gives `auto::val_quota` of its
/// examples, picked as `stratified` picks them.
pub fn stratified_auto(y: &[i64], classes: &[String]) -> (Vec<i64>, Vec<i64>) {
    let members = class_members(y, classes.len());
    let sizes: Vec<usize> = members.iter().map(Vec::len).collect();
    split_by_quota(&members, &auto::val_quota(&sizes), y.len())
}

fn class_members(y: &[i64], classes: usize) -> Vec<Vec<usize>> {
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &c) in y.iter().enumerate() {
        members[c as usize].push(i);
    }
    members
}

/// `quota[c]` examples of each class `c` for validation, by a fixed shuffle within the class;
/// (train, validation) indices of the `n` examples, each in file order.
fn split_by_quota(members: &[Vec<usize>], quota: &[usize], n: usize) -> (Vec<i64>, Vec<i64>) {
    let mut val = Vec::with_capacity(quota.iter().sum());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    for (c, m) in members.iter().enumerate() {
        let mut order = m.clone();
        order.shuffle(&mut rng);
        val.extend(order.into_iter().take(quota[c]));
    }
    val.sort_unstable();
    let mut is_val = vec![false; n];
    for &i in &val {
        is_val[i] = true;
    }
    let train = (0..n).filter(|&i| !is_val[i]).map(|i| i as i64).collect();
    (train, val.into_iter().map(|i| i as i64).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grouped_split_never_puts_a_group_on_both_sides() {
        let classes: Vec<String> = vec!["a".into(), "b".into()];
        // Ten subjects of 1 to 4 series each, classes mixed within subjects.
        let mut groups = Vec::new();
        let mut y = Vec::new();
        for s in 0..10 {
            for k in 0..(1 + s % 4) {
                groups.push(format!("s{s}"));
                y.push(((s + k) % 2) as i64);
            }
        }
        for val in [1, 3, 5, 8, 12] {
            let (train, valid) = grouped(&groups, &y, &classes, val).unwrap();
            assert!(valid.len() >= val, "{val}: {valid:?}");
            assert_eq!(train.len() + valid.len(), groups.len());
            for &v in &valid {
                let g = &groups[v as usize];
                assert!(
                    train.iter().all(|&t| &groups[t as usize] != g),
                    "group {g} on both sides"
                );
            }
            // The same split every time.
            assert_eq!(grouped(&groups, &y, &classes, val).unwrap().1, valid);
        }
        // One group cannot validate; a class only in the validation groups cannot train.
        let one = vec!["x".to_string(); 3];
        assert!(grouped(&one, &[0, 1, 0], &classes, 1)
            .unwrap_err()
            .contains("two groups"));
        let two: Vec<String> = ["p", "p", "q"].iter().map(|s| s.to_string()).collect();
        let err = grouped(&two, &[0, 0, 1], &classes, 3).unwrap_err();
        assert!(err.contains("without a training example"), "{err}");
    }

    #[test]
    fn the_ordered_split_validates_on_the_files_last_series() {
        let classes: Vec<String> = vec!["a".into(), "b".into()];
        let y = [0, 1, 0, 1, 1, 0];
        let (train, val) = ordered(&y, &classes, 2).unwrap();
        assert_eq!(train, [0, 1, 2, 3]);
        assert_eq!(val, [4, 5]);
        // Regression: no classes to keep.
        assert_eq!(ordered(&[0; 5], &[], 4).unwrap().1, [1, 2, 3, 4]);
        // A class whose series all come last would never train.
        let err = ordered(&[0, 0, 0, 1, 1], &classes, 2).unwrap_err();
        assert!(
            err.contains("class \"b\" without a training example"),
            "{err}"
        );
    }

    #[test]
    fn validation_is_stratified_deterministic_and_keeps_every_class() {
        // 6 of class 0, 3 of class 1, 1 of class 2.
        let y = [0, 1, 0, 0, 1, 2, 0, 0, 1, 0];
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let (train, val) = stratified(&y, &names, 3).unwrap();
        assert_eq!(train.len() + val.len(), 10);
        let count = |c: i64| val.iter().filter(|&&i| y[i as usize] == c).count();
        assert_eq!((count(0), count(1), count(2)), (2, 1, 0));
        assert_eq!(stratified(&y, &names, 3).unwrap(), (train, val));
        let e = stratified(&y, &names, 8).unwrap_err();
        assert!(e.contains("class \"c\" (1 examples)"), "{e}");
        // Exact proportions where they exist.
        let y: Vec<i64> = (0..100).map(|i| i % 4).collect();
        let names: Vec<String> = (0..4).map(|i| i.to_string()).collect();
        let (_, val) = stratified(&y, &names, 20).unwrap();
        for c in 0..4 {
            assert_eq!(val.iter().filter(|&&i| y[i as usize] == c).count(), 5);
        }
    }
}
