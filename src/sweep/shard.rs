/*!
`--shard K/N`: which share of a sweep this process trains. Given on the command line, or,
inside a Slurm array job, read from the environment: task K of N is
`SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN + 1` of `SLURM_ARRAY_TASK_COUNT` (Slurm 22.05 sets
the count to the number of tasks), so arrays numbered from 0 or from 1 both work. The runs of a
shard are fixed by the plan alone (`plan::shard`), so shards on a shared filesystem write
disjoint run folders of one sweep, and its tables gather them all.
*/
use crate::error::UserError;

/// The shard (K, N), 1-based, from the flag or the Slurm environment; None: the whole sweep.
pub fn resolve(flag: Option<&str>) -> Result<Option<(usize, usize)>, UserError> {
    if let Some(text) = flag {
        return parse(text).map(Some).ok_or_else(|| UserError::Arg {
            flag: "--shard".into(),
            value: text.into(),
            expected: "expected K/N with 1 <= K <= N, e.g. 2/4".into(),
        });
    }
    let var = |name: &str| std::env::var(name).ok();
    let (Some(id), Some(count)) = (var("SLURM_ARRAY_TASK_ID"), var("SLURM_ARRAY_TASK_COUNT"))
    else {
        return Ok(None);
    };
    let min = var("SLURM_ARRAY_TASK_MIN").unwrap_or_else(|| "1".into());
    let shard = match (id.parse::<usize>(), min.parse::<usize>(), count.parse()) {
        (Ok(id), Ok(min), Ok(n)) if id >= min && id - min < n => Some((id - min + 1, n)),
        _ => None,
    };
    shard.map(Some).ok_or_else(|| UserError::Arg {
        flag: "SLURM_ARRAY_TASK_ID".into(),
        value: format!("{id} (min {min}, count {count})"),
        expected: "expected a task id within the array; or pass --shard K/N".into(),
    })
}

fn parse(text: &str) -> Option<(usize, usize)> {
    let (k, n) = text.split_once('/')?;
    let (k, n) = (k.trim().parse().ok()?, n.trim().parse().ok()?);
    (1 <= k && k <= n).then_some((k, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_of_n_and_rejects_the_rest() {
        assert_eq!(parse("2/4"), Some((2, 4)));
        assert_eq!(parse("1/1"), Some((1, 1)));
        for bad in ["0/4", "5/4", "2", "a/b", "2/0", ""] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        let err = resolve(Some("5/4")).unwrap_err().to_string();
        assert_eq!(err, "--shard 5/4: expected K/N with 1 <= K <= N, e.g. 2/4");
    }
}
