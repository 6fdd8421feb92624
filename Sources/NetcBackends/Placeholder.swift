public enum BackendsPlaceholder {}
