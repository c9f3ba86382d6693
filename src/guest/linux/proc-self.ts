// The per-process files of /proc/self that describe the process rather than its memory: status (the fields
// programs read: Name, State, Pid, PPid, Uid, Gid, FDSize, Threads, Cpus_allowed...), the links of /proc/self/fd/N,
// and auxv (the auxiliary vector as the loader wrote it).
import * as fs from 'node:fs';
import type { ByteString } from './byte-string.js';
import type { LinuxProcess } from './process.js';

/** /proc/self/status: the fields Linux prints, for one running thread on one CPU (signal masks not shown: 0). */
export function formatStatus(p: LinuxProcess, vmKb: number): string {
  const { pid, ppid, uid, gid } = p.ids;
  const fdSize = Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(1, [...p.fds.open()].pop()?.[0] ?? 0) + 1)));
  const name = Buffer.from(p.comm).toString('latin1');
  const z = '0000000000000000';
  return [
    `Name:\t${name}`, `Umask:\t${p.umask.toString(8).padStart(4, '0')}`, 'State:\tR (running)', `Tgid:\t${pid}`, 'Ngid:\t0',
    `Pid:\t${pid}`, `PPid:\t${ppid}`, 'TracerPid:\t0', `Uid:\t${uid}\t${uid}\t${uid}\t${uid}`, `Gid:\t${gid}\t${gid}\t${gid}\t${gid}`,
    `FDSize:\t${fdSize}`, 'Groups:\t', `NStgid:\t${pid}`, `NSpid:\t${pid}`, `NSpgid:\t${p.ids.pgid}`, `NSsid:\t${p.ids.sid}`,
    `VmPeak:\t${String(vmKb).padStart(8)} kB`, `VmSize:\t${String(vmKb).padStart(8)} kB`, 'Threads:\t1', 'SigQ:\t0/63499',
    `SigPnd:\t${z}`, `ShdPnd:\t${z}`, `SigBlk:\t${z}`, `SigIgn:\t${z}`, `SigCgt:\t${z}`,
    `CapInh:\t${z}`, `CapPrm:\t${z}`, `CapEff:\t${z}`, `CapBnd:\t000001ffffffffff`, `CapAmb:\t${z}`,
    'NoNewPrivs:\t0', 'Seccomp:\t0', 'Cpus_allowed:\t1', 'Cpus_allowed_list:\t0', 'Mems_allowed:\t1', 'Mems_allowed_list:\t0',
    'voluntary_ctxt_switches:\t0', 'nonvoluntary_ctxt_switches:\t0', '',
  ].join('\n');
}

/** What /proc/self/fd/N links to, for every open descriptor (as readlink shows it). */
export function fdLinks(p: LinuxProcess): Map<ByteString, ByteString> {
  const out = new Map<ByteString, ByteString>();
  for (const [fd, e] of p.fds.open()) {
    const f = e.file;
    let target: ByteString;
    switch (f.kind) {
      case 'stream': {
        let host: string;
        try {
          host = fs.readlinkSync(`/proc/self/fd/${f.hostFd}`, { encoding: 'buffer' }).toString('latin1');
        } catch {
          host = f.tty ? '/dev/pts/0' : 'pipe:[0]';
        }
        target = host;
        break;
      }
      case 'pipe': target = `pipe:[${f.ino}]`; break;
      case 'anon': target = f.anon.label; break;
      default: target = f.node.path;
    }
    out.set(String(fd), target);
  }
  return out;
}
