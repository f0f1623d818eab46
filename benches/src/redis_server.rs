//! A `redis-server` of the benchmarks' own: on a Unix socket in a directory (no TCP port),
//! AOF on, stopped when dropped. Shared by the replay bench and `kycvs-load --store redis`.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running redis-server, killed on drop.
pub struct RedisServer {
    child: Child,
    socket: PathBuf,
}

impl RedisServer {
    /// Starts `program` with its socket, AOF and log in `dir` and AOF's `appendfsync`
    /// policy (`always`, `everysec`), and waits up to 10 s until it answers `PING`.
    pub fn start(program: &Path, dir: &Path, appendfsync: &str) -> Result<RedisServer, String> {
        let socket = dir.join("redis.sock");
        let log = std::fs::File::create(dir.join("redis.log")).map_err(|e| e.to_string())?;
        let child = Command::new(program)
            .args(["--port", "0", "--unixsocket"])
            .arg(&socket)
            .args([
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "yes",
            ])
            .args(["--appendfsync", appendfsync, "--dir"])
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{}: {e} (apt-get install redis-server)", program.display()))?;
        let server = RedisServer { child, socket };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if server.answers() {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("redis-server did not answer on its socket within 10 s".into())
    }

    fn answers(&self) -> bool {
        let Ok(mut stream) = std::os::unix::net::UnixStream::connect(&self.socket) else {
            return false;
        };
        let mut answer = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut answer).is_ok()
            && &answer == b"+PONG\r\n"
    }

    /// Its URL for `kycvs_redis::RedisConfig` and kycvs-server's `store.url`.
    pub fn url(&self) -> String {
        format!("unix://{}", self.socket.display())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
