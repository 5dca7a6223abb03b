//! The virtual collector: whether the host is a container or virtual machine guest, or a
//! hypervisor, decided from the same signals and in the same order as Ansible's LinuxVirtual.

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json, json};

use super::Fields;

/// Each signal as one line: cgroup and environment markers of process 1, /proc and DMI files,
/// CPU model lines, kernel modules.
pub(super) const COMMAND: &str = r#"grep -qE '/docker(/|-[0-9a-f]+\.scope)' /proc/1/cgroup 2>/dev/null && echo virt=cgroup_docker
grep -qE '/lxc/|/machine.slice/machine-lxc' /proc/1/cgroup 2>/dev/null && echo virt=cgroup_lxc
grep -q '/system.slice/containerd.service' /proc/1/cgroup 2>/dev/null && echo virt=cgroup_containerd
[ -r /proc/1/environ ] && tr '\0' '\n' < /proc/1/environ 2>/dev/null | grep -E 'container=' | sed 's/^/virt_env=/'
for p in /proc/vz /proc/lve /proc/bc /proc/xen /.dockerenv /.dockerinit /dev/kvm /rhev; do [ -e $p ] && echo "virt_path=$p"; done
grep -qs control_d /proc/xen/capabilities && echo virt=xen_control_d
[ -s /run/systemd/container ] && echo "systemd_container=$(head -n 1 /run/systemd/container)"
grep -s -H '' /sys/devices/virtual/dmi/id/product_name /sys/devices/virtual/dmi/id/sys_vendor /sys/devices/virtual/dmi/id/product_family /sys/devices/virtual/dmi/id/bios_vendor | sed 's/^/virt_dmi=/'
sed -n 's/^VxID:[[:space:]]*/virt_vxid=/p' /proc/self/status 2>/dev/null
grep -E '^(model name.*QEMU Virtual CPU|vendor_id.*User Mode Linux|model name.*UML|machine.*CHRP IBM pSeries .emulated by qemu.|vendor_id.*PowerVM Lx86|vendor_id.*IBM/S390)' /proc/cpuinfo 2>/dev/null | sed 's/^/virt_cpu=/'
[ -r /proc/modules ] && awk '$1=="kvm" || $1=="vboxdrv" || $1=="virtio" {print "virt_module=" $1}' /proc/modules
[ -d /rhev ] && grep -qsxE 'vdsmd?' /proc/[0-9]*/comm && echo virt=rhev_vdsm"#;

/// The outcome being decided: the first technology found names the type and role; every one
/// found is listed as a guest or host technology.
#[derive(Default)]
struct Found {
    kind: Option<String>,
    role: Option<&'static str>,
    guest: BTreeSet<String>,
    host: BTreeSet<String>,
}

impl Found {
    fn guest(&mut self, tech: &str, role: Option<&'static str>) {
        self.guest.insert(tech.to_string());
        if self.kind.is_none() {
            self.kind = Some(tech.to_string());
            self.role = role;
        }
    }

    fn host(&mut self, tech: &str) {
        self.host.insert(tech.to_string());
        if self.kind.is_none() {
            self.kind = Some(tech.to_string());
            self.role = Some("host");
        }
    }
}

pub(super) fn parse(f: &Fields, facts: &mut Map<String, Json>) {
    let flag = |v: &str| f.all("virt").any(|x| x.trim() == v);
    let path = |p: &str| f.all("virt_path").any(|x| x.trim() == p);
    let dmi = |file: &str| {
        f.file("virt_dmi", &format!("/sys/devices/virtual/dmi/id/{file}"))
            .map_or("", str::trim)
    };
    let mut v = Found::default();
    let guest = Some("guest");
    for (signal, tech) in [
        ("cgroup_docker", "docker"),
        ("cgroup_lxc", "lxc"),
        ("cgroup_containerd", "containerd"),
    ] {
        if flag(signal) {
            v.guest(tech, guest);
        }
    }
    for line in f.all("virt_env") {
        if line.contains("container=lxc") {
            v.guest("lxc", guest);
        }
        if line.contains("container=podman") {
            v.guest("podman", guest);
        }
        if line.len() > "container=".len() && line.starts_with("container=") {
            v.guest("container", guest);
        }
    }
    if path("/proc/vz") && !path("/proc/lve") {
        if path("/proc/bc") {
            v.host("openvz");
        } else {
            v.guest("openvz", guest);
        }
    }
    let systemd_container = f.get("systemd_container");
    if !systemd_container.is_empty() {
        v.guest(systemd_container, guest);
    }
    if path("/.dockerenv") || path("/.dockerinit") {
        v.guest("docker", guest);
    }
    let containers = ["docker", "lxc", "podman", "openvz", "containerd"];
    if containers.iter().any(|c| v.guest.contains(*c)) || !systemd_container.is_empty() {
        v.guest.insert("container".into());
    }
    if path("/proc/xen") {
        if flag("xen_control_d") {
            v.host("xen");
        } else {
            v.guest("xen", guest);
        }
    }
    // DMI names the hypervisor of a virtual machine (Ansible's role is then "guest").
    let product = dmi("product_name");
    let vendor = dmi("sys_vendor");
    let family = dmi("product_family");
    let bios = dmi("bios_vendor");
    let dmi_tech = [
        (
            [
                "KVM",
                "KVM Server",
                "Bochs",
                "AHV",
                "CloudStack KVM Hypervisor",
            ]
            .contains(&product),
            "kvm",
        ),
        (vendor == "oVirt", "oVirt"),
        (vendor == "Red Hat" && family == "RHV", "RHV"),
        (
            vendor == "Red Hat" && family != "RHV" && product == "RHEV Hypervisor",
            "RHEV",
        ),
        (product.starts_with("VMware"), "VMware"),
        (
            ["OpenStack Compute", "OpenStack Nova"].contains(&product),
            "openstack",
        ),
        (bios == "Xen", "xen"),
        (bios == "innotek GmbH", "virtualbox"),
        (
            ["Amazon EC2", "DigitalOcean", "Hetzner", "Linode"].contains(&bios),
            "kvm",
        ),
        (
            [
                "QEMU",
                "Amazon EC2",
                "DigitalOcean",
                "Google",
                "Scaleway",
                "Nutanix",
            ]
            .contains(&vendor),
            "kvm",
        ),
        (vendor == "KubeVirt", "KubeVirt"),
        (vendor == "Microsoft Corporation", "VirtualPC"),
        (
            vendor == "Parallels Software International Inc.",
            "parallels",
        ),
        (vendor == "OpenStack Foundation", "openstack"),
    ];
    for (hit, tech) in dmi_tech {
        if hit {
            v.guest(tech, guest);
        }
    }
    if let Some(id) = f.all("virt_vxid").next().map(str::trim) {
        if id == "0" {
            v.host("linux_vserver");
        } else {
            v.guest("linux_vserver", guest);
        }
    }
    for line in f.all("virt_cpu") {
        let tech = if line.starts_with("model name") && line.contains("QEMU Virtual CPU")
            || line.starts_with("machine")
        {
            "kvm"
        } else if line.starts_with("vendor_id") && line.contains("User Mode Linux")
            || line.starts_with("model name")
        {
            "uml"
        } else if line.contains("PowerVM Lx86") {
            "powervm_lx86"
        } else {
            "PR/SM"
        };
        let role = if tech == "PR/SM" { Some("LPAR") } else { guest };
        v.guest(tech, role);
    }
    let module = |m: &str| f.all("virt_module").any(|x| x.trim() == m);
    if module("kvm") {
        v.host("kvm");
        if flag("rhev_vdsm") {
            v.host("RHEV");
        }
    }
    if module("vboxdrv") {
        v.host("virtualbox");
    }
    if module("virtio") {
        v.host.insert("kvm".into());
        if v.kind.is_none() {
            v.kind = Some("kvm".into());
            v.role = guest;
        }
    }
    if path("/dev/kvm") {
        v.host("kvm");
    }
    facts.insert(
        "virtualization_type".into(),
        json!(v.kind.as_deref().unwrap_or("NA")),
    );
    facts.insert("virtualization_role".into(), json!(v.role.unwrap_or("NA")));
    facts.insert("virtualization_tech_guest".into(), json!(v.guest));
    facts.insert("virtualization_tech_host".into(), json!(v.host));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(out: &str) -> Map<String, Json> {
        let f = Fields(out.lines().filter_map(|l| l.split_once('=')).collect());
        let mut facts = Map::new();
        parse(&f, &mut facts);
        facts
    }

    /// What ansible-core 2.19's setup said on this machine: a Docker container on a KVM host.
    #[test]
    fn a_container_on_a_kvm_host() {
        let facts = decide("virt_path=/.dockerenv\nvirt_path=/dev/kvm\n");
        assert_eq!(facts["virtualization_type"], "docker");
        assert_eq!(facts["virtualization_role"], "guest");
        assert_eq!(
            facts["virtualization_tech_guest"],
            json!(["container", "docker"])
        );
        assert_eq!(facts["virtualization_tech_host"], json!(["kvm"]));
        let bare = decide("");
        assert_eq!(bare["virtualization_type"], "NA");
        assert_eq!(bare["virtualization_role"], "NA");
        let vm = decide("virt_dmi=/sys/devices/virtual/dmi/id/sys_vendor:QEMU\n");
        assert_eq!(vm["virtualization_type"], "kvm");
        assert_eq!(vm["virtualization_role"], "guest");
    }
}
