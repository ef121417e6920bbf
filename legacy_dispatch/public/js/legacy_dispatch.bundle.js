import "./dispatch_job.js";
import "./alerts.js";
