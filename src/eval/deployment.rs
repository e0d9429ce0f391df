//! What an evaluator produces: one deployment as the engine would run it with one
//! configuration (the defaults, or one parameter file). Every language's evaluator fills the
//! same shape, so the rule on evaluated values and the before/after proof are written once.

use super::value::Value;

/// A set of parameter values a deployment is evaluated with.
#[derive(Debug, Clone, PartialEq)]
pub struct Configuration {
    /// How the user knows it: `defaults`, or the parameter file's path as shown.
    pub(crate) name: String,
    /// Values given for parameters (by name, compared ignoring ASCII case); parameters not
    /// named here take their default value.
    pub(crate) values: Vec<(String, Value)>,
}

impl Configuration {
    /// The configuration that gives no values: every parameter takes its default.
    pub fn defaults() -> Configuration {
        Configuration {
            name: "defaults".into(),
            values: Vec::new(),
        }
    }

    pub(crate) fn value(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// One evaluated deployment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Deployment {
    /// Every parameter's value (given or default), in declaration order, nested
    /// deployments' parameters included under `id`-prefixed names (`nested/inner.param`).
    pub(crate) parameters: Vec<(String, Value)>,
    /// Resources, in source order; a copy loop gives one per iteration.
    pub resources: Vec<Resource>,
    /// Outputs by name (nested deployments' under their `id` prefix).
    pub(crate) outputs: Vec<(String, Value)>,
    /// Values the template's own declared types reject (a parameter outside `allowedValues`,
    /// too short, of the wrong type...), one message each.
    pub(crate) violations: Vec<String>,
}

/// One resource of a deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// A stable identity for comparing two evaluations of the same source: the resource's
    /// place in the source (JSON pointer tokens of the resource object, or the Bicep
    /// declaration's symbolic name path), plus the copy index when in a loop.
    pub id: String,
    /// Pointer tokens of the resource in its file (ARM: e.g. `["resources", "0"]`; nested
    /// templates' resources under their deployment; Bicep: `["resources", "<symbolic name>"]`).
    /// Used to tie a rule finding on the source to its evaluated resource.
    pub origin: Vec<String>,
    /// The copy index when the resource is in a loop.
    pub(crate) copy_index: Option<usize>,
    /// The resource type (`Microsoft.ContainerService/managedClusters`), as evaluated.
    pub kind: Value,
    /// The resource name, as evaluated.
    pub name: Value,
    /// `condition`: `Bool(false)` means the resource is not deployed.
    pub(crate) condition: Value,
    /// `existing` resources are read, not deployed.
    pub(crate) existing: bool,
    /// A nested deployment (ARM `Microsoft.Resources/deployments`, a Bicep module) whose
    /// template was evaluated: its resources and outputs are in this deployment (their
    /// `origin` under this one's), so the parameters it passes are judged by their effects.
    /// False for one whose template is not on hand: what it passes is then compared as is.
    pub(crate) expanded: bool,
    /// The whole evaluated resource object (type, name, properties, ...).
    pub body: Value,
}

impl Resource {
    /// Whether the resource is deployed: its condition is not known to be false, and it is
    /// not an `existing` reference.
    pub fn deployed(&self) -> bool {
        !self.existing && self.condition != Value::Bool(false)
    }

    /// Whether the resource's type is `kind`, ignoring ASCII case.
    pub(crate) fn is_type(&self, kind: &str) -> bool {
        matches!(&self.kind, Value::Str(s) if s.eq_ignore_ascii_case(kind))
    }
}
